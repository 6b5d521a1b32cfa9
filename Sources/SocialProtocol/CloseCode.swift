/// WebSocket close codes the gateway sends. `protocol/close-codes.md` is the
/// table clients implement against; 4000-4999 are the gateway's own.
public enum CloseCode: UInt16, Sendable, CaseIterable {
    /// A normal close (the client asked for it).
    case normal = 1000
    /// The node is shutting down: reconnect, possibly to another node.
    case goingAway = 1001
    /// A malformed WebSocket frame (sent by libwebsockets itself).
    case protocolError = 1002
    /// A binary frame: protocol v1 is JSON text only.
    case unsupportedData = 1003
    /// Invalid UTF-8 in a text frame (sent by libwebsockets itself).
    case invalidPayload = 1007
    /// A policy violation: the access token expired during the session.
    case policyViolation = 1008
    /// A message over `--max-message-bytes`, counted after decompression.
    case messageTooBig = 1009
    /// The gateway hit an internal error on this connection.
    case internalError = 1011
    /// No message or pong arrived within `--idle-timeout`.
    case idleTimeout = 4000
    /// The client did not read fast enough: its send queue overflowed with
    /// events that cannot be dropped. Reconnect and `sync`.
    case slowConsumer = 4001
    /// The connection was closed by an operator or a backend (force disconnect).
    case forcedDisconnect = 4003
    /// The client kept exceeding its rate limits.
    case rateLimitExceeded = 4004
}
