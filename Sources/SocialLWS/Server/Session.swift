import CLibWebSockets
import SocialCore

/// One WebSocket connection's state. Lives on, and is only touched by, the
/// lws service thread.
final class Session {
    enum Phase {
        /// Subscriptions are loading; commands wait in `pending`.
        case loading
        case ready
        /// A close frame is queued; the next writable callback hangs up.
        case closing
    }

    let id: UInt64
    let wsi: OpaquePointer
    let info: ConnectionInfo
    /// When the access token expires (seconds since 1970): the session closes with 1008 then.
    let tokenExpiresAt: Double
    var phase: Phase = .loading
    /// The message being received, across fragments.
    var rx: [UInt8] = []
    /// The current message is being dropped (over the size limit).
    var discarding = false
    var queue: SendQueue
    /// Command frames waiting to run, in arrival order.
    var pending: [[UInt8]] = []
    /// A command of this session is running (commands run one at a time, in order).
    var busy = false
    var lastReceiveMs: Int64
    var lastPingMs: Int64
    var pingDue = false
    /// The chat and presence topics this session receives.
    var topics: Set<Topic> = []
    /// Set once the close reason has been handed to lws.
    var closeCode: UInt16?
    /// A reply written just before the close frame (a command whose outcome closes the session).
    var farewell: [UInt8]?

    init(id: UInt64, wsi: OpaquePointer, info: ConnectionInfo, tokenExpiresAt: Double, queue: SendQueue, now: Int64) {
        self.id = id
        self.wsi = wsi
        self.info = info
        self.tokenExpiresAt = tokenExpiresAt
        self.queue = queue
        self.lastReceiveMs = now
        self.lastPingMs = now
    }

    /// Commands queued or running.
    var inflight: Int { pending.count + (busy ? 1 : 0) }
}
