import Logging
import SocialCore
import SocialRedis
import SocialTesting

/// Timings short enough that outages are noticed and repaired in well under a second.
let fastPresenceSettings = RedisPresenceStore.Settings(
    connectTimeoutSeconds: 0.5, commandTimeoutSeconds: 1, pingIntervalSeconds: 0.2,
    reconnectInitialSeconds: 0.05, reconnectMaxSeconds: 0.3)

/// One gateway node as presence sees it: its own `RedisPresenceStore`.
struct PresenceNode {
    let store: RedisPresenceStore

    init(_ server: RedisTestServer, settings: RedisPresenceStore.Settings = fastPresenceSettings, name: String = "node") throws {
        var logger = Logger(label: "redis-presence-test.\(name)")
        logger.logLevel = .warning
        store = try RedisPresenceStore(url: server.url, logger: logger, settings: settings)
    }
}
