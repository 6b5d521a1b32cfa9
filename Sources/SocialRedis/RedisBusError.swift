/// Why the Redis bus could not be created or a Redis connection failed.
///
/// A struct over a private enum, so new cases do not break callers; compare
/// with the static members (`error == .invalidURL` matches any invalid URL).
public struct RedisBusError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case invalidURL
        case connectFailed
        case connectionLost
        case unexpectedReply
    }

    private let kind: Kind
    /// What happened, for logs.
    public let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The URL is not `redis://host[:port][/db]`.
    public static let invalidURL = RedisBusError(.invalidURL, "invalid Redis URL")
    /// The TCP connection to Redis could not be made.
    public static let connectFailed = RedisBusError(.connectFailed, "cannot connect")
    /// An established connection broke (I/O error, EOF, timeout, missed pong).
    public static let connectionLost = RedisBusError(.connectionLost, "connection lost")
    /// Redis answered something the protocol does not allow here.
    public static let unexpectedReply = RedisBusError(.unexpectedReply, "unexpected reply")

    static func invalidURL(_ message: String) -> RedisBusError { RedisBusError(.invalidURL, message) }
    static func connectFailed(_ message: String) -> RedisBusError { RedisBusError(.connectFailed, message) }
    static func connectionLost(_ message: String) -> RedisBusError { RedisBusError(.connectionLost, message) }
    static func unexpectedReply(_ message: String) -> RedisBusError { RedisBusError(.unexpectedReply, message) }

    /// Same kind, whatever the message.
    public static func == (lhs: RedisBusError, rhs: RedisBusError) -> Bool { lhs.kind == rhs.kind }

    public var description: String { "redis: \(message)" }
}
