import SocialCore

/// Puts each chat's log events back in position order before delivery.
///
/// Events of one chat can reach a node out of order: command tasks publish
/// concurrently once their store calls return, and other nodes publish
/// through the bus. An event one position ahead of the last delivered is
/// delivered at once (with any held events it unblocks); one further ahead is
/// held until the gap fills or `windowMs` passes, then everything held is
/// delivered in order, after a `resync` to the chat's sessions (the gap may
/// never fill: another node's publisher lost the events, or sends them late).
/// Events without a position (typing, read) are never held.
///
/// A value type with no I/O, owned by the lws service thread.
struct ChatReorder {
    private struct Held {
        var event: BusEvent
        var since: Int64
    }

    let windowMs: Int64
    private var last: [String: Seq] = [:]
    private var held: [String: [Seq: Held]] = [:]

    init(windowMs: Int64) { self.windowMs = windowMs }

    var isHolding: Bool { !held.isEmpty }

    /// When the oldest held event's window ends (monotonic milliseconds), if any is held.
    var nextDeadline: Int64? {
        var earliest: Int64?
        for events in held.values {
            for event in events.values where earliest == nil || event.since < earliest! { earliest = event.since }
        }
        return earliest.map { $0 + windowMs }
    }

    /// The events to deliver now, in order, once `event` (of `chat`) arrived.
    mutating func offer(_ event: BusEvent, chat: String, now: Int64) -> [BusEvent] {
        guard let position = event.position, windowMs > 0 else { return [event] }
        guard let previous = last[chat] else {
            last[chat] = position
            return [event] + release(chat)
        }
        if position <= previous { return [event] }  // already gave up waiting for it: late, not held
        if position == previous + 1 {
            last[chat] = position
            return [event] + release(chat)
        }
        held[chat, default: [:]][position] = Held(event: event, since: now)
        return []
    }

    /// Held events that waited `windowMs`: their chats' held events, in order.
    mutating func expire(now: Int64) -> [BusEvent] {
        var out: [BusEvent] = []
        for (chat, events) in held where events.values.contains(where: { now - $0.since >= windowMs }) {
            let ordered = events.keys.sorted()
            out += ordered.compactMap { events[$0]?.event }
            last[chat] = ordered.last
            held[chat] = nil
        }
        return out
    }

    /// The node no longer follows `chat`: its next event starts afresh.
    mutating func forget(_ chat: String) {
        last[chat] = nil
        held[chat] = nil
    }

    /// Held events that now follow on from the last delivered position.
    private mutating func release(_ chat: String) -> [BusEvent] {
        guard var waiting = held[chat], var position = last[chat] else { return [] }
        var out: [BusEvent] = []
        while let next = waiting.removeValue(forKey: position + 1) {
            out.append(next.event)
            position += 1
        }
        last[chat] = position
        held[chat] = waiting.isEmpty ? nil : waiting
        return out
    }
}
