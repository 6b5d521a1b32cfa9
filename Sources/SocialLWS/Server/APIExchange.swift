import SocialCore
import SocialProtocol

/// One backend API request on its way through the service thread: its body
/// arriving, its handler running in a Swift task, its answer waiting for a
/// writable callback. Service thread only.
final class APIExchange {
    enum Phase {
        /// Collecting the body; the route runs when it is complete.
        case receiving(APIRoute, APIRequest)
        /// Refused already; the body is read and dropped, then the refusal is sent.
        case discarding(APIRefusal)
        /// The handler runs in a task.
        case running
    }

    struct Answer {
        var response: APIResponse
        var header: (name: String, value: String)?
    }

    let id: UInt64
    let wsi: OpaquePointer
    let method: String
    let path: String
    var phase: Phase
    var body: [UInt8] = []
    var answer: Answer?
    var clientId = "-"
    var requestId = "-"
    /// The gateway's span of the request (its `api` log line names it).
    var span: TraceContext?

    init(id: UInt64, wsi: OpaquePointer, method: String, path: String, phase: Phase) {
        self.id = id
        self.wsi = wsi
        self.method = method
        self.path = path
        self.phase = phase
    }
}
