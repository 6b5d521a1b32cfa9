import Dispatch
import Metrics
import SocialProtocol

/// Counters the service thread bumps per event without a lock; `tick` adds
/// them to `ServerStats` once a second.
struct LocalCounts {
    var connectionsOpened = 0
    var connectionsClosed = 0
    var commandsReceived = 0
    var framesSent = 0
    var messagesSent = 0
    var eventsQueued = 0
    var ephemeralDropped = 0
    var slowConsumerCloses = 0
    var oversizeCloses = 0
    var idleCloses = 0
    var tokenExpiredCloses = 0
    var rateLimitCloses = 0
    /// Sockets closed at accept: over the caps, with nothing to evict.
    var socketsRefused = 0
    /// Half-open sockets closed to make room for a new one.
    var socketsEvicted = 0
    /// Requests whose head overflowed lws's header space (answered 431 by the loop).
    var requestHeadsTooLarge = 0
    /// WebSocket upgrades refused with an HTTP status (401, 403, 400, 503 ...).
    var handshakesRejected = 0

    /// Adds everything counted since the last flush to `stats` and starts again from zero.
    mutating func flush(into stats: ServerStats) {
        stats.add(.connectionsOpened, connectionsOpened)
        stats.add(.connectionsClosed, connectionsClosed)
        stats.add(.commandsReceived, commandsReceived)
        stats.add(.framesSent, framesSent)
        stats.add(.messagesSent, messagesSent)
        stats.add(.eventsQueued, eventsQueued)
        stats.add(.ephemeralDropped, ephemeralDropped)
        stats.add(.slowConsumerCloses, slowConsumerCloses)
        stats.add(.oversizeCloses, oversizeCloses)
        stats.add(.idleCloses, idleCloses)
        stats.add(.tokenExpiredCloses, tokenExpiredCloses)
        stats.add(.rateLimitCloses, rateLimitCloses)
        stats.add(.socketsRefused, socketsRefused)
        stats.add(.socketsEvicted, socketsEvicted)
        stats.add(.handshakesRejected, handshakesRejected)
        stats.add(.requestHeadsTooLarge, requestHeadsTooLarge)
        self = LocalCounts()
    }
}

/// `social_commands_total{op,result}` and `social_command_duration_seconds{op}`,
/// recorded on the service thread when a command's reply is ready. Each
/// handle is made once, the first time its labels occur (ops outside the
/// protocol count as `unknown`, so clients cannot grow the label set).
struct CommandMetrics {
    private struct Key: Hashable {
        var op: String
        var result: String
    }

    private var counters: [Key: Counter] = [:]
    private var timers: [String: Timer] = [:]
    private static let knownOps = Set(Codec.ops)

    mutating func record(op: String, result: String, arrivedNs: UInt64) {
        let label = Self.knownOps.contains(op) ? op : "unknown"
        let key = Key(op: label, result: result)
        let counter = counters[key] ?? {
            let made = Counter(label: "social_commands_total", dimensions: [("op", label), ("result", result)])
            counters[key] = made
            return made
        }()
        counter.increment()
        let timer = timers[label] ?? {
            let made = Timer(label: "social_command_duration_seconds", dimensions: [("op", label)])
            timers[label] = made
            return made
        }()
        let now = DispatchTime.now().uptimeNanoseconds
        timer.recordNanoseconds(Int64(now &- arrivedNs))
    }
}
