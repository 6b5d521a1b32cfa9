import Foundation
import SocialCore

/// Predictable chat ids for tests: `g_1`, `d_2`, `g_3`... (one counter for both kinds).
///
/// Thread-safe: `next` is only touched under `lock`, which is why the
/// `@unchecked Sendable` is sound.
public final class SequentialChatIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 1

    public init() {}

    /// A new id of a chat of `kind`.
    public func make(_ kind: ChatKind) -> ChatID {
        let n = lock.withLock {
            defer { next += 1 }
            return next
        }
        return (kind == .group ? "g_" : "d_") + String(n)
    }

    /// The generator as the closure `Dispatcher` takes.
    public var generate: @Sendable (ChatKind) -> ChatID { { self.make($0) } }
}
