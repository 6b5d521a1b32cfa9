import Foundation
import Logging
import SocialCore
#if canImport(Glibc)
import Glibc
#endif

/// One connection of the subscriber, from connect until it fails or the bus
/// stops: sends interest changes, reads messages and pongs, pings.
///
/// It sleeps in `poll` on the Redis socket and the wake pipe at once, so an
/// interest change is sent as soon as `setInterest` signals it, and each
/// wake-up is bounded by the next ping or pong deadline.
///
/// Threads: subscriber thread only; it alone touches `connection`.
struct SubscriberSession {
    private let subscriber: RedisSubscriber
    private let connection: RedisConnection
    /// Channels subscribed on this connection, with their topics. A message on
    /// any other channel (one just unsubscribed) has no session left here.
    private var subscribed: [String: Topic] = [:]
    private var pingSentAt: Double?
    private var nextPingAt = 0.0
    /// PINGs sent and PONGs received on this connection: Redis answers in
    /// order, so the PONG of the n-th PING proves every command before it done.
    private var pingsSent = 0
    private var pongsReceived = 0
    /// `afterSubscribed` callers, released by the PONG of the PING sent after their SUBSCRIBEs.
    private var fences: [(ping: Int, waiters: [@Sendable () -> Void])] = []
    private var up = false
    private var lastMalformedLog = -Double.infinity

    /// Socket reads gathered into one `deliver` call, at most (16 KiB each).
    private static let maxReadsPerBatch = 64
    /// Channels per SUBSCRIBE or UNSUBSCRIBE command.
    private static let channelsPerCommand = 1000

    init(subscriber: RedisSubscriber, connection: RedisConnection) {
        self.subscriber = subscriber
        self.connection = connection
    }

    /// Subscribes to every channel of interest, then serves until the bus
    /// stops (returns) or the connection fails (throws).
    /// - Parameter onUp: called once, when the first `PONG` proves the
    ///   subscriptions active, with their count; returns whether to tell the
    ///   sink `busInterrupted()`.
    mutating func serve(onUp: (Int) -> Bool) throws {
        subscribed = subscriber.takeAllInterest()
        // Who waits for interest registered before connecting: the first PONG releases them.
        let early = subscriber.takeWaiters()
        try send("SUBSCRIBE", Array(subscribed.keys))
        try sendPing()
        if !early.isEmpty { fences.append((pingsSent, early)) }
        let settings = subscriber.settings
        while !subscriber.isStopping {
            let now = monotonicSeconds()
            if let sent = pingSentAt, now - sent > settings.deadTimeoutSeconds {
                throw RedisBusError.connectionLost("no PONG within \(settings.deadTimeoutSeconds) s")
            }
            if pingSentAt == nil, now >= nextPingAt { try sendPing() }
            let deadline = pingSentAt.map { $0 + settings.deadTimeoutSeconds } ?? nextPingAt
            let (readable, woken) = wait(seconds: deadline - now)
            if woken {
                subscriber.wake.drain()
                try applyChanges()
                let waiters = subscriber.takeWaiters()
                if !waiters.isEmpty {
                    try sendPing()
                    fences.append((pingsSent, waiters))
                }
            }
            guard readable else { continue }
            var events: [BusEvent] = []
            let (becameUp, failure) = readBatch(into: &events)
            let sink = subscriber.currentSink
            if !events.isEmpty, let sink {
                subscriber.counters.update { $0.delivered += events.count }
                sink.deliver(events)
            }
            if becameUp {
                subscriber.setUp(true)
                if onUp(subscribed.count) {
                    sink?.busInterrupted()
                    subscriber.counters.update { $0.interruptions += 1 }
                }
            }
            if let failure { throw failure }
        }
    }

    /// Sends the interest changes made since the last call.
    private mutating func applyChanges() throws {
        var add: [String] = []
        var remove: [String] = []
        for (channel, (topic, on)) in subscriber.takeChanges() {
            if on, subscribed.updateValue(topic, forKey: channel) == nil { add.append(channel) }
            if !on, subscribed.removeValue(forKey: channel) != nil { remove.append(channel) }
        }
        try send("SUBSCRIBE", add)
        try send("UNSUBSCRIBE", remove)
    }

    /// Sends `verb` for `channels` (nothing when empty: a bare UNSUBSCRIBE would drop them all).
    private func send(_ verb: String, _ channels: [String]) throws {
        guard !channels.isEmpty else { return }
        for start in stride(from: 0, to: channels.count, by: Self.channelsPerCommand) {
            var command = RedisCommand(verb)
            for channel in channels[start..<min(start + Self.channelsPerCommand, channels.count)] {
                command.argument(channel.utf8)
            }
            try connection.append(command)
        }
        try connection.flush()
    }

    private mutating func sendPing() throws {
        try connection.append(RedisCommand("PING"))
        try connection.flush()
        pingsSent += 1
        if pingSentAt == nil { pingSentAt = monotonicSeconds() }
    }

    /// Every fence whose PING is answered: its waiters go on.
    private mutating func releaseFences() {
        while let first = fences.first, first.ping <= pongsReceived {
            fences.removeFirst()
            for waiter in first.waiters { waiter() }
        }
    }

    /// Waiters of fences never answered (the connection failed): they go on; the outage resyncs clients.
    mutating func releaseAll() {
        for fence in fences { for waiter in fence.waiters { waiter() } }
        fences = []
    }

    /// Reads what the socket has (several reads while more is waiting) and
    /// turns it into events. Returns whether this batch brought the first
    /// PONG, and the error that ended the reading, if any: what was read
    /// before it is still delivered.
    private mutating func readBatch(into events: inout [BusEvent]) -> (becameUp: Bool, failure: Error?) {
        var becameUp = false
        var reads = 0
        do {
            repeat {
                try connection.readAvailable()
                reads += 1
                while let reply = try connection.bufferedReply() {
                    if handle(reply, into: &events) { becameUp = true }
                }
            } while reads < Self.maxReadsPerBatch && socketReadable()
        } catch {
            return (becameUp, error)
        }
        return (becameUp, nil)
    }

    /// Handles one reply; returns whether it was the first PONG.
    private mutating func handle(_ reply: RedisReply, into events: inout [BusEvent]) -> Bool {
        if reply.isPong {
            pongsReceived += 1
            releaseFences()
            if pongsReceived >= pingsSent { pingSentAt = nil }
            nextPingAt = monotonicSeconds() + subscriber.settings.pingIntervalSeconds
            if up { return false }
            up = true
            return true
        }
        switch reply {
        case .array(let items) where items.count == 3 && items[0].text == "message":
            guard case .bulk(let channelBytes) = items[1], case .bulk(let payload) = items[2] else {
                malformed("message without channel or payload")
                return false
            }
            guard let topic = subscribed[String(decoding: channelBytes, as: UTF8.self)] else { return false }
            do {
                let (event, publishedAt) = try BusWire.decodeStamped(payload, topic: topic)
                events.append(event)
                if let publishedAt {
                    subscriber.counters.metrics.received(lagMicroseconds: wallMicroseconds() - publishedAt)
                }
            } catch {
                malformed("\(error)")
            }
        case .array(let items) where ["subscribe", "unsubscribe"].contains(items.first?.text):
            break
        case .error(let message):
            subscriber.logger.warning("redis subscriber got an error reply",
                                      metadata: ["redis": "\(subscriber.url)", "error": "\(message)"])
        default:
            subscriber.logger.debug("redis subscriber ignored a reply", metadata: ["reply": "\(reply)"])
        }
        return false
    }

    /// Counts a malformed message; logs at most one every 10 s.
    private mutating func malformed(_ why: String) {
        subscriber.counters.update { $0.malformed += 1 }
        let now = monotonicSeconds()
        guard now - lastMalformedLog >= 10 else { return }
        lastMalformedLog = now
        subscriber.logger.warning("redis bus ignored a malformed message", metadata: [
            "redis": "\(subscriber.url)", "reason": "\(why)", "total": "\(subscriber.counters.snapshot.malformed)"])
    }

    /// Sleeps in `poll` until the socket or the wake pipe is readable, or `seconds` pass.
    private func wait(seconds: Double) -> (readable: Bool, woken: Bool) {
        var fds = [pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: subscriber.wake.readDescriptor, events: Int16(POLLIN), revents: 0)]
        let timeout = Int32(max(0, min(seconds, 60)) * 1000) + 1
        guard poll(&fds, 2, timeout) > 0 else { return (false, false) }
        // Errors and hang-ups count as readable: the read then reports them.
        return (fds[0].revents != 0, fds[1].revents != 0)
    }

    private func socketReadable() -> Bool {
        var fd = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0
    }
}
