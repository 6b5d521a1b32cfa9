import Foundation

/// A multi-producer queue that the lws service thread drains.
///
/// Any thread may `post`; only the owning service thread calls `drain`. The
/// lock guards `items`, which is the whole reason this wrapper is
/// `@unchecked Sendable`.
final class WorkInbox<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Item] = []

    /// Appends an item. Returns true when the inbox was empty, i.e. when the
    /// caller must wake the service thread (later posts ride on that wake-up).
    @discardableResult
    func post(_ item: Item) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        items.append(item)
        return items.count == 1
    }

    /// Takes everything queued, in order.
    func drain() -> [Item] {
        lock.lock()
        defer { lock.unlock() }
        let taken = items
        items.removeAll(keepingCapacity: true)
        return taken
    }
}
