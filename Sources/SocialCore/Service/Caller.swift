/// Who sent a command: the authenticated user, the device they connected
/// from and the session (connection) carrying it. The transport builds one
/// per session from the verified access token.
public struct Caller: Sendable, Hashable {
    public var userId: UserID
    /// The client's device id (from the token or the connection request).
    public var deviceId: String
    /// The gateway's id for this connection.
    public var sessionId: String

    /// - Parameters:
    ///   - userId: the token's `sub`.
    ///   - deviceId: the device the session runs on; typing indicators are throttled per device.
    ///   - sessionId: the connection's id, for logs.
    public init(userId: UserID, deviceId: String, sessionId: String) {
        self.userId = userId
        self.deviceId = deviceId
        self.sessionId = sessionId
    }
}
