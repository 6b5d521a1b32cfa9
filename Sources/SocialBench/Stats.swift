/// What one connection counted during one phase; the runner adds them up.
struct PhaseTally {
    /// `chat.send` commands written.
    var sent = 0
    /// `ok` replies that stored a message (`duplicate: false`).
    var acked = 0
    /// `ok` replies with `duplicate: true` (none expected: every client_msg_id is new).
    var duplicateAcks = 0
    /// Error replies, by code.
    var errors: [String: Int] = [:]
    /// Sends whose reply never came.
    var unanswered = 0
    /// Send → ok reply, nanoseconds.
    var ackNs: [UInt64] = []
    /// Send → `message.new` at a receiver connection, nanoseconds.
    var deliveryNs: [UInt64] = []
    /// `message.new` events received for the first time (every connection).
    var deliveries = 0
    /// `message.new` events of a seq this connection already had.
    var duplicated = 0
    /// `message.new` events below the highest seq already received.
    var outOfOrder = 0
    /// `message.new` events that skipped seqs (the chat has nothing but these sends meanwhile).
    var gaps = 0
    /// `message.new` events this run did not write.
    var foreign = 0
    var lastAckNs: UInt64 = 0
    /// When the last first-time `message.new` arrived (any connection).
    var lastDeliveryNs: UInt64 = 0
    /// The first disorder seen, for the report: "seq 57 after 58 in g_…".
    var disorderExample: String?

    mutating func add(_ other: PhaseTally) {
        sent += other.sent
        acked += other.acked
        duplicateAcks += other.duplicateAcks
        errors.merge(other.errors, uniquingKeysWith: +)
        unanswered += other.unanswered
        ackNs += other.ackNs
        deliveryNs += other.deliveryNs
        deliveries += other.deliveries
        duplicated += other.duplicated
        outOfOrder += other.outOfOrder
        gaps += other.gaps
        foreign += other.foreign
        lastAckNs = max(lastAckNs, other.lastAckNs)
        lastDeliveryNs = max(lastDeliveryNs, other.lastDeliveryNs)
        disorderExample = disorderExample ?? other.disorderExample
    }
}

/// Nearest-rank percentiles of a sample, in milliseconds.
struct Percentiles {
    let count: Int
    let p50: Double
    let p90: Double
    let p99: Double
    let max: Double

    init(nanoseconds sample: [UInt64]) {
        let sorted = sample.sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1_000_000
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = sorted.last.map { Double($0) / 1_000_000 } ?? 0
    }
}

/// One phase's figures: a window size run for a duration or count.
struct PhaseResult {
    let inflight: Int
    /// From the first send to the last ok reply, seconds.
    let seconds: Double
    let tally: PhaseTally
    /// From the first send to the last delivery, seconds.
    let deliverySeconds: Double
    /// CPU seconds (user + system) the gateway process used during the phase
    /// and its drain, from `/proc/<pid>/stat`; nil when its pid is unknown.
    let gatewayCpuSeconds: Double?
    let ack: Percentiles
    let delivery: Percentiles
    /// (acknowledged message, member connection) pairs never delivered.
    let lost: Int
    /// Deliveries whose seq was acknowledged for another message.
    let mismatched: Int
    /// Deliveries whose send got no ok reply (an error or no reply at all).
    let unacknowledgedDeliveries: Int

    var sendsPerSecond: Double { seconds > 0 ? Double(tally.acked) / seconds : 0 }
    /// First-time `message.new` deliveries (all member connections) per second.
    var deliveriesPerSecond: Double { deliverySeconds > 0 ? Double(tally.deliveries) / deliverySeconds : 0 }
    /// Gateway CPU seconds per million deliveries.
    var gatewayCpuPerMillion: Double? {
        guard let gatewayCpuSeconds, tally.deliveries > 0 else { return nil }
        return gatewayCpuSeconds / Double(tally.deliveries) * 1e6
    }
    var errorCount: Int { tally.errors.values.reduce(0, +) }
    /// Everything the verification counts as wrong.
    var problems: Int { lost + mismatched + tally.duplicated + tally.outOfOrder + tally.gaps + tally.duplicateAcks }
}
