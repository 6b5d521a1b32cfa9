import Foundation
import SocialCore

/// A `PushSender` for unit tests: records every request and answers with
/// `accept` (true: the push service took it).
///
/// Thread-safe: `requests` and `accept` are read and written under `lock`,
/// which is why the `@unchecked Sendable` is sound.
public final class RecordingPushSender: PushSender, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [PushRequest] = []
    private var accepting: Bool

    public init(accept: Bool = true) { accepting = accept }

    public func send(_ request: PushRequest) async -> Bool {
        lock.withLock {
            recorded.append(request)
            return accepting
        }
    }

    public var requests: [PushRequest] { lock.withLock { recorded } }

    public var accept: Bool {
        get { lock.withLock { accepting } }
        set { lock.withLock { accepting = newValue } }
    }
}
