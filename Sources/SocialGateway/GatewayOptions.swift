import ArgumentParser
import Foundation
import Logging

/// Every setting of the gateway: a flag, with a `SOCIAL_GATEWAY_<NAME>`
/// environment variable as its default. `social-gateway --help` lists them.
struct GatewayOptions: ParsableArguments {
    // MARK: network
    @Option(help: "Address to listen on (only this address is bound). \(Env.note("HOST"))")
    var host: String = Env.string("HOST", "127.0.0.1")

    @Option(help: "Port for WebSocket (/ws) and HTTP (/healthz, /readyz). \(Env.note("PORT"))")
    var port: Int = Env.int("PORT", 8080)

    @Option(help: "PEM certificate for wss/https (with --tls-key). \(Env.note("TLS_CERT"))")
    var tlsCert: String = Env.string("TLS_CERT", "")

    @Option(help: "PEM private key for wss/https (with --tls-cert). \(Env.note("TLS_KEY"))")
    var tlsKey: String = Env.string("TLS_KEY", "")

    @Option(help: "Comma-separated Origin values browsers may connect from; empty allows any. \(Env.note("ALLOWED_ORIGINS"))")
    var allowedOrigins: String = Env.string("ALLOWED_ORIGINS", "")

    @Option(help: "Most connections this process accepts. \(Env.note("MAX_CONNECTIONS"))")
    var maxConnections: Int = Env.int("MAX_CONNECTIONS", 19_500)

    @Option(help: "Accepted sockets that have not finished their WebSocket upgrade (or HTTP request) at one time; beyond it the oldest of them is closed to make room (a new socket is refused only when none is half-open). \(Env.note("MAX_PENDING_HANDSHAKES"))")
    var maxPendingHandshakes: Int = Env.int("MAX_PENDING_HANDSHAKES", 1024)

    // MARK: auth
    @Option(help: "HS256 secret of the SSO's access tokens (at least 32 bytes). \(Env.note("JWT_SECRET"))")
    var jwtSecret: String = ""  // read from the environment in `secret`, so --help never prints it

    @Option(help: "JWKS file with the SSO's RS256/ES256 public keys. \(Env.note("JWT_PUBLIC_KEYS"))")
    var jwtPublicKeys: String = Env.string("JWT_PUBLIC_KEYS", "")

    @Option(help: "Required token issuer (iss), if set. \(Env.note("JWT_ISSUER"))")
    var jwtIssuer: String = Env.string("JWT_ISSUER", "")

    @Option(help: "Required token audience (aud), if set. \(Env.note("JWT_AUDIENCE"))")
    var jwtAudience: String = Env.string("JWT_AUDIENCE", "")

    @Option(help: "Clock skew allowed on exp/nbf, seconds (0-60). \(Env.note("JWT_LEEWAY"))")
    var jwtLeeway: Int = Env.int("JWT_LEEWAY", 60)

    // MARK: connections
    @Option(help: "Largest client message in bytes, after decompression; larger closes with 1009. \(Env.note("MAX_MESSAGE_BYTES"))")
    var maxMessageBytes: Int = Env.int("MAX_MESSAGE_BYTES", 65_536)

    @Option(help: "Seconds between server pings. \(Env.note("PING_INTERVAL"))")
    var pingInterval: Int = Env.int("PING_INTERVAL", 30)

    @Option(help: "Seconds with no frame or pong before closing with 4000. \(Env.note("IDLE_TIMEOUT"))")
    var idleTimeout: Int = Env.int("IDLE_TIMEOUT", 75)

    @Option(help: "Seconds a TCP/TLS/HTTP handshake may take. \(Env.note("HANDSHAKE_TIMEOUT"))")
    var handshakeTimeout: Int = Env.int("HANDSHAKE_TIMEOUT", 10)

    @Option(help: "Events queued per connection before the slow-client policy applies. \(Env.note("SEND_QUEUE_FRAMES"))")
    var sendQueueFrames: Int = Env.int("SEND_QUEUE_FRAMES", 1024)

    @Option(help: "Bytes of events queued per connection before the slow-client policy applies. \(Env.note("SEND_QUEUE_BYTES"))")
    var sendQueueBytes: Int = Env.int("SEND_QUEUE_BYTES", 4 << 20)

    @Option(help: "Largest frame filled with several queued messages separated by newlines (at most --max-message-bytes; a larger message goes alone; 0: one message per frame). \(Env.note("BATCH_MAX_BYTES"))")
    var batchMaxBytes: Int = Env.int("BATCH_MAX_BYTES", 32_768)

    @Option(help: "Milliseconds a chat event waits for a missing earlier one before it is delivered anyway (0: arrival order). \(Env.note("REORDER_WINDOW_MS"))")
    var reorderWindowMs: Int = Env.int("REORDER_WINDOW_MS", 250)

    @Option(help: "Commands queued or running per connection before 'overloaded' replies. \(Env.note("MAX_INFLIGHT"))")
    var maxInflight: Int = Env.int("MAX_INFLIGHT", 64)

    @Option(help: "Seconds a SIGTERM drain waits for in-flight work before closing anyway. \(Env.note("DRAIN_TIMEOUT"))")
    var drainTimeout: Int = Env.int("DRAIN_TIMEOUT", 10)

    @Option(help: "Most connections a drain has closing at once (each close walks libwebsockets' list of the others' timeouts). \(Env.note("DRAIN_MAX_CLOSING"))")
    var drainMaxClosing: Int = Env.int("DRAIN_MAX_CLOSING", 1024)

    // MARK: backend API
    @Option(help: "Largest backend API (/api/v1) request body in bytes; larger gets 413. \(Env.note("API_MAX_BODY_BYTES"))")
    var apiMaxBodyBytes: Int = Env.int("API_MAX_BODY_BYTES", 65_536)

    @Option(help: "Milliseconds a backend API call may take before it is answered 504. \(Env.note("API_TIMEOUT_MS"))")
    var apiTimeoutMs: Int = Env.int("API_TIMEOUT_MS", 10_000)

    @Option(help: "Seconds between reloads of the bot accounts from the store: a bot disabled or rotated on another node is refused here within this. \(Env.note("BOT_REFRESH_SECONDS"))")
    var botRefreshSeconds: Int = Env.int("BOT_REFRESH_SECONDS", 5)

    @Option(help: "Most chats one bot account may be a member of (its group.join beyond gets 'conflict'). \(Env.note("BOT_MAX_CHATS"))")
    var botMaxChats: Int = Env.int("BOT_MAX_CHATS", 100)

    // MARK: storage
    @Option(help: "Store: 'embedded' (SQLite in --data-dir), 'memory' (not durable), or a mongodb:// URI (many nodes). \(Env.note("STORE"))")
    var store: String = Env.string("STORE", "embedded")

    @Option(help: "MongoDB database of the store. \(Env.note("MONGO_DATABASE"))")
    var mongoDatabase: String = Env.string("MONGO_DATABASE", "social")

    @Option(help: "MongoDB write concern: 'majority' or a number of nodes. \(Env.note("MONGO_WRITE_CONCERN"))")
    var mongoWriteConcern: String = Env.string("MONGO_WRITE_CONCERN", "majority")

    @Option(help: "Milliseconds a MongoDB call waits for a usable server before failing 'unavailable' (serverSelectionTimeoutMS). \(Env.note("MONGO_TIMEOUT_MS"))")
    var mongoTimeoutMs: Int = Env.int("MONGO_TIMEOUT_MS", 2000)

    @Option(help: "Threads running MongoDB calls (and pooled clients in use at once). \(Env.note("MONGO_WORKERS"))")
    var mongoWorkers: Int = Env.int("MONGO_WORKERS", 4)

    @Option(help: "Directory of the embedded store. \(Env.note("DATA_DIR"))")
    var dataDir: String = Env.string("DATA_DIR", "./data")

    @Option(help: "Microseconds the embedded store's writer lets a commit wait for more writes (0: commit at once). Each commit costs a WAL write and an fsync whatever it holds, so a short wait trades that much latency for CPU at steady traffic. \(Env.note("COMMIT_DELAY_US"))")
    var commitDelayUs: Int = Env.int("COMMIT_DELAY_US", 0)

    @Option(help: "Event bus: 'local' (in-process, one node) or redis://host:port[/db] (many nodes; presence lives there too), or several redis:// URLs separated by commas (shards: the same list, in the same order, on every node). \(Env.note("BUS"))")
    var bus: String = Env.string("BUS", "local")

    // MARK: chat limits
    @Option(help: "Largest message text in UTF-8 bytes. \(Env.note("MAX_TEXT_BYTES"))")
    var maxTextBytes: Int = Env.int("MAX_TEXT_BYTES", 4096)

    @Option(help: "Most members of a group. \(Env.note("MAX_GROUP_MEMBERS"))")
    var maxGroupMembers: Int = Env.int("MAX_GROUP_MEMBERS", 10_000)

    @Option(help: "Least milliseconds between typing indicators per user, device and chat. \(Env.note("TYPING_INTERVAL_MS"))")
    var typingIntervalMs: Int = Env.int("TYPING_INTERVAL_MS", 2000)

    @Option(help: "Seconds a device's presence lasts unless its node refreshes it (every third of this); a node that dies takes its users offline after this plus 2 s. \(Env.note("PRESENCE_TTL"))")
    var presenceTtl: Int = Env.int("PRESENCE_TTL", 30)

    // MARK: rate limits (syntax: <count>/s or <count>/m, optional ,burst=<n>; or off)
    @Option(help: "Master switch of the command rate limits below: on or off. \(Env.note("RATE_LIMITS"))")
    var rateLimits: String = Env.string("RATE_LIMITS", "on")

    @Option(help: "Commands per session, every op but ping. \(Env.note("RATE_COMMANDS"))")
    var rateCommands: String = Env.string("RATE_COMMANDS", "200/s,burst=2000")

    @Option(help: "chat.send, chat.edit, chat.delete and chat.react per session of a person. \(Env.note("RATE_MESSAGES"))")
    var rateMessages: String = Env.string("RATE_MESSAGES", "100/s,burst=1000")

    @Option(help: "Message changes per bot account, shared by its sessions on this node. \(Env.note("RATE_BOT_MESSAGES"))")
    var rateBotMessages: String = Env.string("RATE_BOT_MESSAGES", "30/s,burst=60")

    @Option(help: "chat.typing per session. \(Env.note("RATE_TYPING"))")
    var rateTyping: String = Env.string("RATE_TYPING", "20/s,burst=50")

    @Option(help: "proxy.request per session. \(Env.note("RATE_PROXY"))")
    var rateProxy: String = Env.string("RATE_PROXY", "20/s,burst=50")

    @Option(help: "ping per session (its own bucket; not counted in --rate-commands). \(Env.note("RATE_PING"))")
    var ratePing: String = Env.string("RATE_PING", "20/s,burst=100")

    @Option(help: "Rejected (rate_limited) commands within --rate-flood-window that close the connection with 4004 (0: never). \(Env.note("RATE_FLOOD_REJECTIONS"))")
    var rateFloodRejections: Int = Env.int("RATE_FLOOD_REJECTIONS", 20)

    @Option(help: "Seconds in which --rate-flood-rejections are counted. \(Env.note("RATE_FLOOD_WINDOW"))")
    var rateFloodWindow: Int = Env.int("RATE_FLOOD_WINDOW", 10)

    // MARK: REST proxy
    @Option(help: "A REST service proxy.request may call: name=http://host[:port][/base]; repeat for each service. \(Env.note("UPSTREAM")) (space-separated)")
    var upstream: [String] = Env.list("UPSTREAM")

    @Option(help: "What proxy.request may send a service: name=METHOD[,METHOD]:/prefix[,/prefix]; repeatable, rules add up; nothing is allowed without one. \(Env.note("UPSTREAM_ALLOW")) (space-separated)")
    var upstreamAllow: [String] = Env.list("UPSTREAM_ALLOW")

    @Option(help: "Milliseconds a TCP connect to an upstream may take. \(Env.note("PROXY_CONNECT_TIMEOUT_MS"))")
    var proxyConnectTimeoutMs: Int = Env.int("PROXY_CONNECT_TIMEOUT_MS", 1000)

    @Option(help: "Milliseconds a proxied call may take in all before a 'timeout' error. \(Env.note("PROXY_TIMEOUT_MS"))")
    var proxyTimeoutMs: Int = Env.int("PROXY_TIMEOUT_MS", 5000)

    @Option(help: "Largest upstream response body in bytes; larger gets 'too_large'. \(Env.note("PROXY_MAX_RESPONSE_BYTES"))")
    var proxyMaxResponseBytes: Int = Env.int("PROXY_MAX_RESPONSE_BYTES", 262_144)

    @Option(help: "Proxied calls one user may have in flight on this node; more get 'overloaded'. \(Env.note("PROXY_MAX_PER_USER"))")
    var proxyMaxPerUser: Int = Env.int("PROXY_MAX_PER_USER", 4)

    @Option(help: "Consecutive failures (no answer, timeout, 5xx) that open a service's circuit breaker. \(Env.note("PROXY_BREAKER_FAILURES"))")
    var proxyBreakerFailures: Int = Env.int("PROXY_BREAKER_FAILURES", 5)

    @Option(help: "Milliseconds an open breaker refuses calls before one trial call. \(Env.note("PROXY_BREAKER_OPEN_MS"))")
    var proxyBreakerOpenMs: Int = Env.int("PROXY_BREAKER_OPEN_MS", 10_000)

    @Option(help: "Threads making upstream calls (calls in flight at once; 4x this may wait). \(Env.note("PROXY_WORKERS"))")
    var proxyWorkers: Int = Env.int("PROXY_WORKERS", 32)

    // MARK: notifications
    @Option(help: "URL the push webhook POSTs to for users with no online device (the push service); empty: no pushes, recorded as failed. \(Env.note("PUSH_WEBHOOK_URL"))")
    var pushWebhookUrl: String = Env.string("PUSH_WEBHOOK_URL", "")

    @Option(help: "Bearer token sent to the push webhook. \(Env.note("PUSH_WEBHOOK_TOKEN"))")
    var pushWebhookToken: String = ""  // read from the environment in `pushToken`, so --help never prints it

    @Option(help: "Attempts per push webhook call, the first included. \(Env.note("PUSH_ATTEMPTS"))")
    var pushAttempts: Int = Env.int("PUSH_ATTEMPTS", 4)

    @Option(help: "Milliseconds before the second push attempt, doubled for each later one (±20% jitter). \(Env.note("PUSH_BACKOFF_MS"))")
    var pushBackoffMs: Int = Env.int("PUSH_BACKOFF_MS", 200)

    @Option(help: "Longest wait between push attempts, milliseconds. \(Env.note("PUSH_MAX_BACKOFF_MS"))")
    var pushMaxBackoffMs: Int = Env.int("PUSH_MAX_BACKOFF_MS", 5000)

    @Option(help: "Milliseconds one push attempt may take. \(Env.note("PUSH_TIMEOUT_MS"))")
    var pushTimeoutMs: Int = Env.int("PUSH_TIMEOUT_MS", 5000)

    @Option(help: "Push webhook calls in flight at once; beyond it a push fails at once (recorded). \(Env.note("PUSH_MAX_INFLIGHT"))")
    var pushMaxInflight: Int = Env.int("PUSH_MAX_INFLIGHT", 256)

    @Option(help: "Redis stream read for notifications (XADD <stream> * notification <json>) when --bus is redis; empty: none. \(Env.note("NOTIFY_STREAM"))")
    var notifyStream: String = Env.string("NOTIFY_STREAM", "social:notifications")

    @Option(help: "This node's consumer name in the stream's group; must stay the same across its restarts. Default: <hostname>-<port>. \(Env.note("NOTIFY_STREAM_CONSUMER"))")
    var notifyStreamConsumer: String = Env.string("NOTIFY_STREAM_CONSUMER", "")

    @Option(help: "Milliseconds a stream entry may stay read but unacknowledged by another node (one that died) before this node claims it. \(Env.note("NOTIFY_STREAM_CLAIM_IDLE_MS"))")
    var notifyStreamClaimIdleMs: Int = Env.int("NOTIFY_STREAM_CLAIM_IDLE_MS", 30_000)

    @Option(help: "Most users one POST /api/v1/notifications may address. \(Env.note("NOTIFY_MAX_USERS"))")
    var notifyMaxUsers: Int = Env.int("NOTIFY_MAX_USERS", 1000)

    // MARK: operations
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. \(Env.note("LOG_LEVEL"))")
    var logLevel: String = Env.string("LOG_LEVEL", "info")

    /// The HS256 secret from the flag or, failing that, the environment; nil when neither is set.
    var secret: String? { GatewayOptions.optional(jwtSecret) ?? Env.string("JWT_SECRET") }

    /// The push webhook's token from the flag or, failing that, the environment.
    var pushToken: String? { GatewayOptions.optional(pushWebhookToken) ?? Env.string("PUSH_WEBHOOK_TOKEN") }

    /// An optional setting: empty means unset.
    static func optional(_ value: String) -> String? { value.isEmpty ? nil : value }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard tlsCert.isEmpty == tlsKey.isEmpty else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard secret != nil || !jwtPublicKeys.isEmpty else {
            throw ValidationError("set --jwt-secret and/or --jwt-public-keys: the gateway accepts only authenticated clients")
        }
        if let secret, secret.utf8.count < 32 {
            throw ValidationError("--jwt-secret must be at least 32 bytes (it has \(secret.utf8.count))")
        }
        guard (0...60).contains(jwtLeeway) else { throw ValidationError("--jwt-leeway must be 0-60") }
        guard maxMessageBytes >= 1024 else { throw ValidationError("--max-message-bytes must be at least 1024") }
        guard pingInterval >= 1, idleTimeout > pingInterval else {
            throw ValidationError("--idle-timeout must be longer than --ping-interval (≥ 1)")
        }
        guard sendQueueFrames >= 16, sendQueueBytes >= 65_536 else {
            throw ValidationError("--send-queue-frames ≥ 16 and --send-queue-bytes ≥ 65536")
        }
        guard maxInflight >= 1, maxConnections >= 1, maxPendingHandshakes >= 1, drainTimeout >= 0, handshakeTimeout >= 1,
              drainMaxClosing >= 1 else {
            throw ValidationError("--max-inflight, --max-connections, --max-pending-handshakes, --handshake-timeout and --drain-max-closing must be positive")
        }
        guard ["embedded", "memory"].contains(store) || store.hasPrefix("mongodb://") || store.hasPrefix("mongodb+srv://") else {
            throw ValidationError("--store must be 'embedded', 'memory' or a mongodb:// URI")
        }
        guard mongoTimeoutMs >= 100, (1...64).contains(mongoWorkers) else {
            throw ValidationError("--mongo-timeout-ms ≥ 100 and --mongo-workers 1-64")
        }
        guard bus == "local" || bus.hasPrefix("redis://") else {
            throw ValidationError("--bus must be 'local' or a redis:// URL")
        }
        guard maxTextBytes >= 1, maxGroupMembers >= 2, typingIntervalMs >= 0 else {
            throw ValidationError("--max-text-bytes ≥ 1, --max-group-members ≥ 2, --typing-interval-ms ≥ 0")
        }
        guard batchMaxBytes >= 0 else { throw ValidationError("--batch-max-bytes must be 0 or more") }
        guard (0...100_000).contains(commitDelayUs) else { throw ValidationError("--commit-delay-us must be 0-100000") }
        guard (0...5000).contains(reorderWindowMs) else { throw ValidationError("--reorder-window-ms must be 0-5000") }
        guard (1...(16 << 20)).contains(apiMaxBodyBytes) else {
            throw ValidationError("--api-max-body-bytes must be 1-16777216")
        }
        guard (100...600_000).contains(apiTimeoutMs) else { throw ValidationError("--api-timeout-ms must be 100-600000") }
        guard (1...3600).contains(botRefreshSeconds), botMaxChats >= 0 else {
            throw ValidationError("--bot-refresh-seconds must be 1-3600 and --bot-max-chats ≥ 0")
        }
        if !pushWebhookUrl.isEmpty {
            guard let url = URL(string: pushWebhookUrl), ["http", "https"].contains(url.scheme ?? "") else {
                throw ValidationError("--push-webhook-url must be an http:// or https:// URL")
            }
        }
        guard (1...20).contains(pushAttempts), pushBackoffMs >= 0, pushMaxBackoffMs >= pushBackoffMs,
              pushTimeoutMs >= 100, pushMaxInflight >= 1 else {
            throw ValidationError("--push-attempts 1-20, --push-backoff-ms ≥ 0, --push-max-backoff-ms ≥ --push-backoff-ms, --push-timeout-ms ≥ 100, --push-max-inflight ≥ 1")
        }
        guard (1...100_000).contains(notifyMaxUsers) else { throw ValidationError("--notify-max-users must be 1-100000") }
        guard presenceTtl >= 3 else { throw ValidationError("--presence-ttl must be at least 3 seconds") }
        guard proxyConnectTimeoutMs >= 1, proxyTimeoutMs >= 1, proxyMaxResponseBytes >= 1024, proxyMaxPerUser >= 1,
              proxyBreakerFailures >= 1, proxyBreakerOpenMs >= 0, (1...1024).contains(proxyWorkers) else {
            throw ValidationError("--proxy-*-timeout-ms ≥ 1, --proxy-max-response-bytes ≥ 1024, --proxy-max-per-user ≥ 1, "
                                  + "--proxy-breaker-failures ≥ 1, --proxy-breaker-open-ms ≥ 0, --proxy-workers 1-1024")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        _ = try rates()
    }
}
