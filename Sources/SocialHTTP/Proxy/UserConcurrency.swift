import SocialCore
import Synchronization

/// Counts each user's proxied calls in flight on this node, to hold them to a limit.
///
/// Threads: any (`counts` is behind a `Mutex`).
final class UserConcurrency: Sendable {
    private let counts = Mutex<[UserID: Int]>([:])
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a slot for `user`; false when they already have `limit` calls in flight.
    func acquire(_ user: UserID) -> Bool {
        counts.withLock { counts in
            let count = counts[user, default: 0]
            guard count < limit else { return false }
            counts[user] = count + 1
            return true
        }
    }

    /// Gives back a slot `acquire` took.
    func release(_ user: UserID) {
        counts.withLock { counts in
            let count = counts[user, default: 1] - 1
            counts[user] = count > 0 ? count : nil
        }
    }

    /// Calls in flight for `user` (for tests).
    func inFlight(_ user: UserID) -> Int {
        counts.withLock { $0[user, default: 0] }
    }
}
