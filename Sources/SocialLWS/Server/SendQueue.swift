/// A connection's bounded queue of outgoing frames, with the slow-client
/// policy of `protocol/README.md`: when an event does not fit, ephemeral events
/// are dropped first (the new one, or queued ones to make room for a durable
/// one); when a durable event still does not fit, the queue overflows and the
/// connection is closed with 4001. Replies always fit: their number is bounded
/// by the in-flight command limit.
///
/// A value type with no I/O; the session that owns it lives on the lws service thread.
struct SendQueue {
    struct Item {
        var frame: [UInt8]
        var ephemeral: Bool
        var isReply: Bool
    }

    enum Outcome: Equatable {
        case queued
        /// The frame was queued after dropping this many queued ephemeral frames.
        case queuedAfterDropping(Int)
        /// The frame was ephemeral and did not fit; it was dropped.
        case droppedNew
        /// A durable frame did not fit even without ephemeral ones.
        case overflow
    }

    let maxFrames: Int
    let maxBytes: Int
    private var items: [Item] = []
    private var head = 0
    private(set) var bytes = 0

    init(maxFrames: Int, maxBytes: Int) {
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
    }

    var count: Int { items.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func push(_ item: Item) -> Outcome {
        if item.isReply || fits(item) {
            append(item)
            return .queued
        }
        if item.ephemeral { return .droppedNew }
        let dropped = dropEphemeral(until: item)
        guard fits(item) else { return .overflow }
        append(item)
        return dropped > 0 ? .queuedAfterDropping(dropped) : .queued
    }

    mutating func pop() -> Item? {
        guard head < items.count else { return nil }
        let item = items[head]
        items[head].frame = []
        head += 1
        bytes -= item.frame.count
        compact()
        return item
    }

    /// Takes queued frames, oldest first, into one batch: appends them to
    /// `buffer` separated by a line feed (protocol README, "servers batch")
    /// while the batch stays within `maxBytes`. The first frame is always
    /// taken, so a frame larger than `maxBytes` goes alone. Returns how many
    /// frames were taken (0 when the queue is empty). `maxBytes` ≤ 0 takes one
    /// frame per batch.
    mutating func popBatch(maxBytes: Int, into buffer: inout [UInt8]) -> Int {
        guard head < items.count else { return 0 }
        let start = buffer.count
        var taken = 0
        while head < items.count {
            let size = items[head].frame.count
            if taken > 0 && (maxBytes <= 0 || buffer.count - start + 1 + size > maxBytes) { break }
            if taken > 0 { buffer.append(0x0A) }
            buffer.append(contentsOf: items[head].frame)
            items[head].frame = []
            bytes -= size
            head += 1
            taken += 1
        }
        compact()
        return taken
    }

    /// Drops the popped prefix once it is most of the storage.
    private mutating func compact() {
        if head == items.count {
            items.removeAll(keepingCapacity: items.capacity <= 8)
            head = 0
        } else if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    private func fits(_ item: Item) -> Bool {
        count + 1 <= maxFrames && bytes + item.frame.count <= maxBytes
    }

    private mutating func append(_ item: Item) {
        items.append(item)
        bytes += item.frame.count
    }

    /// Removes queued ephemeral frames, oldest first, until `item` fits or none are left.
    private mutating func dropEphemeral(until item: Item) -> Int {
        var kept: [Item] = []
        kept.reserveCapacity(count)
        var dropped = 0
        var freedFrames = 0
        var freedBytes = 0
        for queued in items[head...] {
            let stillFull = count - freedFrames + 1 > maxFrames || bytes - freedBytes + item.frame.count > maxBytes
            if queued.ephemeral && stillFull {
                dropped += 1
                freedFrames += 1
                freedBytes += queued.frame.count
            } else {
                kept.append(queued)
            }
        }
        items = kept
        head = 0
        bytes -= freedBytes
        return dropped
    }
}
