import Synchronization

/// What a store's collections were asked: the filter of every find, count
/// and update, and every inserted document, by collection. Tests read it to
/// check that each names its collection's shard key (`MongoShardKeys`).
/// Off until `start()`; off, a call costs one atomic load.
///
/// Threads: any (an atomic flag and a mutex).
final class MongoQueryLog: Sendable {
    struct Entry: Sendable, Hashable, CustomStringConvertible {
        var collection: String
        /// `find`, `count`, `updateOne`, `updateMany`, `insert`.
        var operation: String
        /// The filter's (or the inserted document's) top-level field names, in order.
        var fields: [String]

        var description: String { "\(collection).\(operation)(\(fields.joined(separator: ", ")))" }
    }

    private let on = Atomic<Bool>(false)
    private let entries = Mutex<[Entry]>([])

    /// Records from now on.
    func start() { on.store(true, ordering: .relaxed) }

    /// Records one call when on. Any thread.
    func record(_ collection: String, _ operation: String, _ document: BSONDocument) {
        guard on.load(ordering: .relaxed) else { return }
        let entry = Entry(collection: collection, operation: operation, fields: document.fields.map(\.key))
        entries.withLock { $0.append(entry) }
    }

    /// What was recorded, in order.
    var recorded: [Entry] { entries.withLock { $0 } }
}
