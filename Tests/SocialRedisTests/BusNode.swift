import Logging
import SocialCore
import SocialRedis
import SocialTesting

/// Timings short enough that outages are noticed and repaired in well under a second.
let fastSettings = RedisBus.Settings(pingIntervalSeconds: 0.2, deadTimeoutSeconds: 1, connectTimeoutSeconds: 0.5,
                                     reconnectInitialSeconds: 0.05, reconnectMaxSeconds: 0.3)

/// One gateway node as the bus sees it: a `RedisBus` and the sink it delivers to.
final class BusNode {
    let bus: RedisBus
    let sink = RecordingSink()

    convenience init(_ server: RedisTestServer, settings: RedisBus.Settings = fastSettings, name: String = "node") throws {
        try self.init(url: server.url, settings: settings, name: name)
    }

    init(url: String, settings: RedisBus.Settings = fastSettings, name: String = "node") throws {
        var logger = Logger(label: "redis-bus-test.\(name)")
        logger.logLevel = .warning
        bus = try RedisBus(url: url, logger: logger, settings: settings)
        bus.attach(sink)
    }

    deinit { bus.close() }

    /// What this node's sessions receive.
    var events: [BusEvent] { sink.events }
}

extension RedisTestServer {
    /// Waits until `channel` has exactly `count` subscribers.
    func waitForSubscribers(_ channel: String, _ count: Int) async -> Bool {
        await eventually { (try? subscriberCount(channel)) == count }
    }
}

/// Waits until every node's bus reports healthy (or, with `false`, unhealthy).
func waitHealthy(_ nodes: BusNode..., is value: Bool = true) async -> Bool {
    await eventually { nodes.allSatisfy { $0.bus.isHealthy() == value } }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A frame with non-ASCII text, newlines, a NUL and bytes that are not UTF-8.
let awkwardFrame: [UInt8] = bytes("{\"event\":\"message.new\",\"data\":{\"text\":\"Très bien 🏃‍♀️\nline 2\"}}\n")
    + [0, 0xFF, 0xFE, 0x0A, 0x0D]
