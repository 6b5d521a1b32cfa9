/// An error code carried in an error reply. The table in `protocol/errors.md`
/// lists every code; `temporary` tells a client whether retrying the same
/// command later may succeed.
public struct ErrorCode: Sendable, Hashable, RawRepresentable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The frame is not a JSON object with an integer `id` and a string `op`.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// The `op` is not one this protocol version knows.
    public static let unknownOp = ErrorCode(rawValue: "unknown_op")
    /// `args` is missing a field, has a field of the wrong type, or a value out of range.
    public static let invalidArgs = ErrorCode(rawValue: "invalid_args")
    /// The caller may not do this (not a member, not an admin, not the author...).
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// The group, chat, message or user does not exist (or is not visible to the caller).
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The command conflicts with the current state (already a member, owner cannot leave...).
    public static let conflict = ErrorCode(rawValue: "conflict")
    /// A value is larger than its documented limit.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// Too many commands in a window; `retry_after_ms` says when to try again. Temporary.
    public static let rateLimited = ErrorCode(rawValue: "rate_limited")
    /// Too many commands of this connection are still in flight. Temporary.
    public static let overloaded = ErrorCode(rawValue: "overloaded")
    /// A backend (store, bus, upstream) is unreachable or failed. Temporary.
    public static let unavailable = ErrorCode(rawValue: "unavailable")
    /// A backend did not answer in time. Temporary.
    public static let timeout = ErrorCode(rawValue: "timeout")
    /// The node is draining; reconnect (to another node) and retry. Temporary.
    public static let shuttingDown = ErrorCode(rawValue: "shutting_down")
    /// A bug in the gateway. Temporary, since a retry may reach a healthy node.
    public static let internalError = ErrorCode(rawValue: "internal")

    /// Whether a retry of the same command may succeed, as this code's default.
    public var isTemporary: Bool {
        switch self {
        case .rateLimited, .overloaded, .unavailable, .timeout, .shuttingDown, .internalError: return true
        default: return false
        }
    }
}
