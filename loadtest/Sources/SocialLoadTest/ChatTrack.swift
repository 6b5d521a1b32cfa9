/// One member's view of one chat: its position (the highest `updated_seq`
/// applied, protocol/README.md "Applying a chat event") and what it counted.
/// A value type, so the rules are testable without sockets; `LoadClient`
/// owns one per chat, under its lock.
struct ChatTrack {
    let chatId: String
    /// The highest `updated_seq` seen in any event, before measuring starts (setup).
    var highest: Int64 = 0
    var measuring = false
    var position: Int64 = 0
    /// Positions up to this one were applied by a `sync`: a live event at or below it is expected, not a duplicate.
    var syncedThrough: Int64 = 0
    /// Seqs skipped by a live gap and not yet arrived (bounded).
    var missing: Set<Int64> = []
    /// Messages of this run applied (each seq once).
    var applied = 0
    /// Messages this member sent that were acknowledged.
    var acked = 0
    var duplicated = 0
    var outOfOrder = 0
    var gaps = 0

    static let maxMissing = 10_000

    init(chatId: String) { self.chatId = chatId }

    /// Starts checking from `seq`, the chat's position once setup is done.
    mutating func begin(at seq: Int64) {
        measuring = true
        position = seq
        syncedThrough = seq
    }

    enum LiveOutcome: Equatable {
        /// Applied in order (or late, filling a gap): counts as a delivery.
        case applied
        /// Applied after skipping seqs: counts as a delivery, and a gap was recorded.
        case appliedAfterGap
        /// At or below the position: duplicate, or a `sync` had it already.
        case ignored
    }

    /// A live event at `seq` (`updated_seq`); `ours` when this run wrote the message.
    mutating func live(_ seq: Int64, ours: Bool) -> LiveOutcome {
        if !measuring {
            highest = max(highest, seq)
            return .ignored
        }
        if seq == position + 1 {
            position = seq
            if ours { applied += 1 }
            return .applied
        }
        if seq > position + 1 {
            gaps += 1
            var s = position + 1
            while s < seq && missing.count < Self.maxMissing { missing.insert(s); s += 1 }
            position = seq
            if ours { applied += 1 }
            return .appliedAfterGap
        }
        if missing.remove(seq) != nil {
            outOfOrder += 1
            if ours { applied += 1 }
            return .applied
        }
        if seq > syncedThrough { duplicated += 1 }
        return .ignored
    }

    /// One `sync` reply entry: changes ascending by `updated_seq`, then the new
    /// position. `ours` says whether a change is a message of this run.
    mutating func synced(changes: [(updatedSeq: Int64, ours: Bool)], position newPosition: Int64) {
        var next = position + 1
        var contiguous = true
        for change in changes where change.updatedSeq > position {
            if change.updatedSeq != next { contiguous = false }
            next = change.updatedSeq + 1
            if change.ours { applied += 1 }
        }
        // Changes only ever add messages in these scenarios (no edits, no deletes): a hole is a gap.
        if !contiguous { gaps += 1 }
        position = max(position, newPosition)
        syncedThrough = max(syncedThrough, position)
        highest = max(highest, position)
    }
}
