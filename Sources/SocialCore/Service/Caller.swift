/// Who sent a command: the authenticated user, the device they connected
/// from and the session (connection) carrying it. The transport builds one
/// per session from the verified access token.
public struct Caller: Sendable, Hashable {
    /// Whether a person or a bot account is on the other end.
    public enum Kind: String, Sendable, Hashable {
        case user
        case bot
    }

    public var userId: UserID
    /// The client's device id (from the token or the connection request).
    public var deviceId: String
    /// The gateway's id for this connection.
    public var sessionId: String
    /// A person (an SSO access token) or a bot account (its own credential).
    public var kind: Kind
    /// The scopes the credential grants (the token's `scope`/`scp` claim; a bot's configured scopes).
    public var scopes: [String]
    /// The bearer token the session authenticated with, forwarded by the REST proxy; nil for bots.
    public var accessToken: String?

    /// - Parameters:
    ///   - userId: the token's `sub`.
    ///   - deviceId: the device the session runs on; typing indicators are throttled per device.
    ///   - sessionId: the connection's id, for logs.
    ///   - kind: a person or a bot account.
    ///   - scopes: what the credential grants.
    ///   - accessToken: the bearer token of the handshake (people only).
    public init(userId: UserID, deviceId: String, sessionId: String, kind: Kind = .user,
                scopes: [String] = [], accessToken: String? = nil) {
        self.userId = userId
        self.deviceId = deviceId
        self.sessionId = sessionId
        self.kind = kind
        self.scopes = scopes
        self.accessToken = accessToken
    }
}
