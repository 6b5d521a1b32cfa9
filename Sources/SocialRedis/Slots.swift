import Synchronization

/// A fixed number of result slots that tasks or threads fill by index, read
/// once they have all finished (the verdicts of one stream read, the
/// presences of one `get` across shards). Any thread.
final class Slots<Value: Sendable>: Sendable {
    private let storage: Mutex<[Value]>

    /// `count` slots, each holding `initial` until set.
    init(count: Int, initial: Value) { storage = Mutex(Array(repeating: initial, count: count)) }

    func set(_ index: Int, _ value: Value) {
        storage.withLock { $0[index] = value }
    }

    var values: [Value] { storage.withLock { $0 } }
}
