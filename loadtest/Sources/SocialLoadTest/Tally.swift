/// What a worker counted: the figures of a run before they are turned into a
/// report. Workers send theirs to the coordinator as JSON, which adds them up.
struct Tally: Codable {
    /// Connections that opened, and connection attempts that failed.
    var connected = 0
    var connectFailures = 0
    /// Why connection attempts failed (the lws error or the HTTP status), by reason.
    var connectFailureReasons: [String: Int] = [:]
    /// Connections that closed while they should have stayed open, by close code ("none": dropped).
    var unexpectedCloses: [String: Int] = [:]
    /// `chat.send` commands written, acknowledged (stored), and answered with an error (by code).
    var sent = 0
    var acked = 0
    var errors: [String: Int] = [:]
    /// Sends whose reply never came.
    var unanswered = 0
    /// Acks with `duplicate: true` (never expected: every client_msg_id is new).
    var duplicateAcks = 0
    /// Messages every member should have received (acked messages × members of their chat).
    var expected = 0
    /// Messages applied by members, live or through `sync`, each (member, seq) at most once.
    var delivered = 0
    /// Live `message.new` events of a seq already applied that no `sync` explains.
    var duplicated = 0
    /// Live events that arrived after a later seq of their chat.
    var outOfOrder = 0
    /// Live events that skipped seqs; and `sync` answers whose changes were not contiguous.
    var gaps = 0
    /// `bots`: messages of this run delivered without `sender_kind: "bot"`.
    var wrongSenderKind = 0
    /// Expected deliveries that never arrived (expected − delivered, per member and chat, when positive).
    var lost = 0
    /// Deliveries of messages whose send was not acknowledged (per member and chat, delivered − expected when positive).
    var unacknowledgedDeliveries = 0
    /// `sync` calls made, and members that ended up to date.
    var syncs = 0
    var resyncedClients = 0
    /// Offline periods (churn) and reconnections.
    var reconnects = 0
    /// Seconds from a reconnect storm's drop until the last member was resynced.
    var stormResyncSeconds: Double?

    var ack = Latency()
    var delivery = Latency()
    var connect = Latency()
    /// Reconnect start → `sync` done (churn, reconnect storm).
    var resync = Latency()

    /// Every problem the run should not have: lost, duplicated, out of order, gaps and the rest.
    var problems: Int {
        lost + duplicated + outOfOrder + gaps + unacknowledgedDeliveries + duplicateAcks + unanswered + wrongSenderKind
    }

    mutating func add(_ o: Tally) {
        connected += o.connected
        connectFailures += o.connectFailures
        connectFailureReasons.merge(o.connectFailureReasons, uniquingKeysWith: +)
        unexpectedCloses.merge(o.unexpectedCloses, uniquingKeysWith: +)
        sent += o.sent
        acked += o.acked
        errors.merge(o.errors, uniquingKeysWith: +)
        unanswered += o.unanswered
        duplicateAcks += o.duplicateAcks
        expected += o.expected
        delivered += o.delivered
        duplicated += o.duplicated
        outOfOrder += o.outOfOrder
        gaps += o.gaps
        lost += o.lost
        wrongSenderKind += o.wrongSenderKind
        unacknowledgedDeliveries += o.unacknowledgedDeliveries
        syncs += o.syncs
        resyncedClients += o.resyncedClients
        reconnects += o.reconnects
        if let s = o.stormResyncSeconds { stormResyncSeconds = max(stormResyncSeconds ?? 0, s) }
        ack.add(o.ack)
        delivery.add(o.delivery)
        connect.add(o.connect)
        resync.add(o.resync)
    }
}

/// One second of a run: counts and latencies of what happened in it.
struct Second: Codable {
    var open = 0
    var sent = 0
    var acked = 0
    var delivered = 0
    var errors = 0
    var ack = Latency(digits: .two)
    var delivery = Latency(digits: .two)

    mutating func add(_ o: Second) {
        open += o.open
        sent += o.sent
        acked += o.acked
        delivered += o.delivered
        errors += o.errors
        ack.add(o.ack)
        delivery.add(o.delivery)
    }
}
