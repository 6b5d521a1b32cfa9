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
/// What it reads goes to the sink in stream order: events in batches, and a
/// loss announced on the control channel as `busInterrupted(topics:)`
/// between the events before and after it. Until the first `PONG` proves
/// the subscriptions active, what it reads is held back, so that an
/// outage's `busInterrupted` reaches the sink before any event read on the
/// new connection.
///
/// Threads: subscriber thread only; it alone touches `connection`.
struct SubscriberSession {
    private let subscriber: RedisSubscriber
    private let connection: RedisConnection
    private let controlChannel: String
    /// Channels subscribed on this connection, with their topics. A message on
    /// any other channel (one just unsubscribed) has no session left here.
    private var subscribed: [String: Topic] = [:]
    private var pingSentAt: Double?
    private var nextPingAt = 0.0
    /// PINGs sent and PONGs received on this connection: Redis answers in
    /// order, so the PONG of the n-th PING proves every command before it done.
    private var pingsSent = 0
    private var pongsReceived = 0
    /// The interest version sent to Redis so far (see `RedisSubscriber.confirm`).
    private var sentVersion = 0
    /// Every PING in flight: the interest version it proves once answered,
    /// and the `afterSubscribed` callers it releases.
    private var fences: [(ping: Int, version: Int, waiters: [@Sendable () -> Void])] = []
    private var up = false
    /// Read but not yet handed to the sink (everything, until the first PONG).
    private var pending: [Delivery] = []
    private var lastMalformedLog = -Double.infinity

    private enum Delivery {
        case events([BusEvent])
        case lost(BusLoss)
    }

    /// Socket reads gathered into one `deliver` call, at most (16 KiB each).
    private static let maxReadsPerBatch = 64
    /// Channels per SUBSCRIBE or UNSUBSCRIBE command.
    private static let channelsPerCommand = 1000

    init(subscriber: RedisSubscriber, connection: RedisConnection) {
        self.subscriber = subscriber
        self.connection = connection
        controlChannel = BusControl.channel(prefix: subscriber.settings.channelPrefix)
    }

    /// Subscribes to the control channel and every channel of interest, then
    /// serves until the bus stops (returns) or the connection fails (throws).
    /// - Parameter onUp: called once, when the first `PONG` proves the
    ///   subscriptions active, with their count; returns whether to tell the
    ///   sink `busInterrupted()`.
    mutating func serve(onUp: (Int) -> Bool) throws {
        let (interest, version, early) = subscriber.takeAllInterest()
        subscribed = interest
        try send("SUBSCRIBE", [controlChannel] + Array(subscribed.keys))
        sentVersion = version
        // Who waits for interest registered before connecting: the first PONG releases them.
        try sendPing(releasing: early)
        let settings = subscriber.settings
        while !subscriber.isStopping {
            let now = monotonicSeconds()
            if let sent = pingSentAt, now - sent > settings.deadTimeoutSeconds {
                throw RedisBusError.connectionLost("no PONG within \(settings.deadTimeoutSeconds) s")
            }
            if pingSentAt == nil, now >= nextPingAt { try sendPing(releasing: []) }
            let deadline = pingSentAt.map { $0 + settings.deadTimeoutSeconds } ?? nextPingAt
            let (readable, woken) = wait(seconds: deadline - now)
            if woken {
                subscriber.wake.drain()
                let (changes, version, waiters) = subscriber.takeChanges()
                try apply(changes)
                sentVersion = version
                if !waiters.isEmpty { try sendPing(releasing: waiters) }
            }
            guard readable else { continue }
            let (becameUp, failure) = readBatch()
            if becameUp, onUp(subscribed.count) {
                interrupted(.everything)
                subscriber.counters.update { $0.interruptions += 1 }
            }
            if up { flush() }
            if let failure { throw failure }
        }
    }

    /// Sends interest changes.
    private mutating func apply(_ changes: [String: (Topic, Bool)]) throws {
        var add: [String] = []
        var remove: [String] = []
        for (channel, (topic, on)) in changes {
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

    /// Sends a PING that proves the interest sent so far, and releases `waiters` once answered.
    private mutating func sendPing(releasing waiters: [@Sendable () -> Void]) throws {
        try connection.append(RedisCommand("PING"))
        try connection.flush()
        pingsSent += 1
        fences.append((pingsSent, sentVersion, waiters))
        if pingSentAt == nil { pingSentAt = monotonicSeconds() }
    }

    /// Every fence whose PING is answered: its version is active, its waiters go on.
    private mutating func releaseFences() {
        while let first = fences.first, first.ping <= pongsReceived {
            fences.removeFirst()
            subscriber.confirm(first.version)
            for waiter in first.waiters { waiter() }
        }
    }

    /// Waiters of fences never answered (the connection failed): they go on; the outage resyncs clients.
    mutating func releaseAll() {
        for fence in fences { for waiter in fence.waiters { waiter() } }
        fences = []
    }

    /// Hands what was read to the sink, in order.
    private mutating func flush() {
        guard !pending.isEmpty else { return }
        let sink = subscriber.currentSink
        for delivery in pending {
            switch delivery {
            case .events(let events):
                subscriber.counters.update { $0.delivered += events.count }
                sink?.deliver(events)
            case .lost(let loss):
                subscriber.counters.update { $0.lossesHeard += 1 }
                interrupted(loss)
            }
        }
        pending = []
    }

    /// Tells the sink that events of `loss`'s topics were lost: the topics
    /// this node follows, or for a loss of everything, all the shard's
    /// (every session, when this is the only shard).
    private func interrupted(_ loss: BusLoss) {
        guard let sink = subscriber.currentSink else { return }
        if loss.all {
            if subscriber.isSharded {
                if !subscribed.isEmpty { sink.busInterrupted(topics: Set(subscribed.values)) }
            } else {
                sink.busInterrupted()
            }
            return
        }
        let followed = Set(subscribed.values)
        let topics = loss.topics.filter { followed.contains($0) }
        if !topics.isEmpty { sink.busInterrupted(topics: topics) }
    }

    /// Reads what the socket has (several reads while more is waiting) into
    /// `pending`. Returns whether this batch brought the first PONG, and the
    /// error that ended the reading, if any: what was read before it is
    /// still delivered.
    private mutating func readBatch() -> (becameUp: Bool, failure: Error?) {
        var becameUp = false
        var reads = 0
        var events: [BusEvent] = []
        defer { if !events.isEmpty { pending.append(.events(events)) } }
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
            let channel = String(decoding: channelBytes, as: UTF8.self)
            if channel == controlChannel {
                control(payload, events: &events)
                return false
            }
            guard let topic = subscribed[channel] else { return false }
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

    /// A message on the control channel: a loss goes between the events read before and after it.
    private mutating func control(_ payload: [UInt8], events: inout [BusEvent]) {
        do {
            guard let loss = try BusControl.decode(payload) else { return }
            if !events.isEmpty { pending.append(.events(events)) }
            events = []
            pending.append(.lost(loss))
        } catch {
            malformed("\(error)")
        }
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
