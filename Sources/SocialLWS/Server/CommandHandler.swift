import SocialCore

/// Who is on the other end of a connection, as the handshake established.
public struct ConnectionInfo: Sendable, Equatable {
    public var sessionId: String
    public var userId: String
    public var deviceId: String
    public var scopes: [String]
    /// Whether the credential is a bot account's rather than a person's access token.
    public var isBot: Bool
    /// The bearer token of the handshake (people only), which the REST proxy forwards.
    public var accessToken: String?

    public init(sessionId: String, userId: String, deviceId: String, scopes: [String],
                isBot: Bool = false, accessToken: String? = nil) {
        self.sessionId = sessionId
        self.userId = userId
        self.deviceId = deviceId
        self.scopes = scopes
        self.isBot = isBot
        self.accessToken = accessToken
    }
}

/// What the transport asks of the application. Called from Swift tasks,
/// never on the lws service thread.
public protocol CommandHandler: Sendable {
    /// Runs one command frame: the reply frame, and the topics the session
    /// starts or stops receiving. Never throws: every failure is an error reply.
    func handle(_ frame: [UInt8], from connection: ConnectionInfo) async -> CommandOutcome
    /// A session is up (presence: the device is online).
    func sessionOpened(_ connection: ConnectionInfo) async
    /// A session is gone (presence: the device left).
    func sessionClosed(_ connection: ConnectionInfo) async
    /// The node's live sessions, every `presenceHeartbeatSeconds`.
    func heartbeat(_ connections: [ConnectionInfo]) async
    /// The chats whose events a new session of `user` receives.
    func subscriptions(of user: String) async throws -> [String]
    /// Whether the backends answer (for `/readyz`).
    func backendsReady() async -> Bool
}
