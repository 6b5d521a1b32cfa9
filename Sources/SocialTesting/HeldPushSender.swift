import Foundation
import SocialCore

/// A `PushSender` for unit tests whose calls hang until `release` (then they
/// succeed) or until their task is cancelled (then they fail at once, as the
/// webhook does): a push service that does not answer. Records every request.
///
/// Thread-safe: the state is only touched under `lock`, which is why the
/// `@unchecked Sendable` is sound.
public final class HeldPushSender: PushSender, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [PushRequest] = []
    private var waiting: [UUID: CheckedContinuation<Bool, Never>] = [:]
    private var released = false

    public init() {}

    public func send(_ request: PushRequest) async -> Bool {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = lock.withLock {
                    recorded.append(request)
                    if released { return true }
                    if Task.isCancelled { return false }
                    waiting[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            lock.withLock { waiting.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    /// Answers every waiting call, and every later one, with success.
    public func release() {
        let all = lock.withLock {
            released = true
            defer { waiting = [:] }
            return Array(waiting.values)
        }
        for continuation in all { continuation.resume(returning: true) }
    }

    public var requests: [PushRequest] { lock.withLock { recorded } }
    /// Calls hanging now.
    public var waitingCount: Int { lock.withLock { waiting.count } }
}
