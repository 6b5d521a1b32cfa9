import SocialCore

/// The events waiting for the publisher thread, in publishing order, bounded.
///
/// When an event is pushed into a full queue, one event goes: the oldest
/// ephemeral one (typing, presence: worthless once late) if there is any,
/// otherwise the oldest event. The publisher announces the topics of the
/// durable events dropped (`BusLoss`) before it publishes anything else, so
/// every node tells the clients that follow them to `sync`.
///
/// Dropped ephemeral events leave holes that are skipped; the storage is
/// rebuilt when holes outnumber events, so every operation is amortized O(1)
/// and the storage stays within about twice the limit.
///
/// Threads: a value; its owner serializes access (the publisher's lock).
struct PublishQueue {
    let limit: Int
    private var items: [BusEvent?] = []
    private var head = 0
    /// No ephemeral event is left before this index.
    private var ephemeralCursor = 0
    private(set) var count = 0
    private var ephemeralCount = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var isEmpty: Bool { count == 0 }

    /// Appends `event`; returns the event dropped to make room, if one was.
    mutating func push(_ event: BusEvent) -> BusEvent? {
        items.append(event)
        count += 1
        if event.ephemeral { ephemeralCount += 1 }
        let dropped = count > limit ? dropOne() : nil
        compactIfSparse()
        return dropped
    }

    /// Removes and returns up to `max` events, oldest first.
    mutating func pop(max: Int) -> [BusEvent] {
        var batch: [BusEvent] = []
        batch.reserveCapacity(Swift.min(max, count))
        while batch.count < max, head < items.count {
            if let event = items[head] {
                batch.append(event)
                count -= 1
                if event.ephemeral { ephemeralCount -= 1 }
            }
            head += 1
        }
        compactIfSparse()
        return batch
    }

    /// Slots in use, holes included (for tests of the memory bound).
    var storageCount: Int { items.count - head }

    private mutating func dropOne() -> BusEvent? {
        let dropped: BusEvent?
        if ephemeralCount > 0 {
            var i = Swift.max(head, ephemeralCursor)
            while items[i]?.ephemeral != true { i += 1 }
            dropped = items[i]
            items[i] = nil
            ephemeralCount -= 1
            ephemeralCursor = i + 1
        } else {
            while items[head] == nil { head += 1 }
            dropped = items[head]
            items[head] = nil
            head += 1
        }
        count -= 1
        return dropped
    }

    private mutating func compactIfSparse() {
        if count == 0 {
            items.removeAll(keepingCapacity: items.count <= 4 * limit)
            head = 0
            ephemeralCursor = 0
        } else if items.count > 2 * count + 64 {
            items = items[head...].filter { $0 != nil }
            head = 0
            ephemeralCursor = 0
        }
    }
}
