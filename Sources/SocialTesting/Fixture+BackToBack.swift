import SocialCore
import SocialProtocol
import Synchronization

/// Submitting changes the way the transport's service thread does: one after
/// the other, without waiting for the previous one's completion.
extension Fixture {
    /// A change to submit without waiting for the previous one.
    enum Submission: Sendable {
        case log(LogChange)
        case membership(MembershipChange, to: ChatID)
    }

    /// How a submitted change completed.
    enum Completed: Sendable {
        case effect(LogEffect)
        case system(Message)
        case failed(any Error)

        /// The seq the change took (a new message's, or a system message's).
        var seq: Seq? {
            switch self {
            case .effect(.sent(let sent)): return sent.message.seq
            case .effect(.changed(let message)): return message.updatedSeq
            case .system(let message): return message.seq
            default: return nil
            }
        }

        /// The wire code of a refusal; nil for a success.
        var code: ErrorCode? {
            if case .failed(let error) = self { return LogRules.errorCode(of: error) }
            return nil
        }
    }

    /// The completions of `backToBack`, as they arrive.
    private final class Completions: Sendable {
        let received = Mutex<[(index: Int, outcome: Completed)]>([])
    }

    /// Submits `submissions` one after the other from the calling thread,
    /// without waiting between them (as the transport's service thread does),
    /// and returns their completions in the order the store called them.
    static func backToBack(_ store: any ChatStore, _ submissions: [Submission]) async -> [(index: Int, outcome: Completed)] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[(index: Int, outcome: Completed)], Never>) in
            let completions = Completions()
            let total = submissions.count
            let record: @Sendable (Int, Completed) -> Void = { index, outcome in
                let all = completions.received.withLock { received -> [(index: Int, outcome: Completed)]? in
                    received.append((index, outcome))
                    return received.count == total ? received : nil
                }
                if let all { continuation.resume(returning: all) }
            }
            for (index, submission) in submissions.enumerated() {
                switch submission {
                case .log(let change):
                    store.submit(change) { result in
                        switch result {
                        case .success(let effect): record(index, .effect(effect))
                        case .failure(let error): record(index, .failed(error))
                        }
                    }
                case .membership(let change, let chat):
                    store.submit(change, to: chat, now: now) { result in
                        switch result {
                        case .success(let message): record(index, .system(message))
                        case .failure(let error): record(index, .failed(error))
                        }
                    }
                }
            }
        }
    }
}
