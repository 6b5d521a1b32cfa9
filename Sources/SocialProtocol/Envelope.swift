#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The protocol's one version so far, also the WebSocket subprotocol name.
public enum ProtocolVersion {
    public static let v1 = "social.v1"
}

/// `id` and `op` of a client command, read before its `args`.
public struct CommandHeader: Sendable, Equatable {
    public let id: Int
    public let op: String
    public init(id: Int, op: String) { self.id = id; self.op = op }
}

/// The error object of an error reply.
public struct ErrorBody: Sendable, Equatable, Codable, Error {
    public var code: ErrorCode
    public var message: String
    public var temporary: Bool
    /// Set with `rate_limited`: milliseconds after which a retry may succeed.
    public var retryAfterMs: Int?

    public init(_ code: ErrorCode, _ message: String, temporary: Bool? = nil, retryAfterMs: Int? = nil) {
        self.code = code
        self.message = message
        self.temporary = temporary ?? code.isTemporary
        self.retryAfterMs = retryAfterMs
    }

    enum CodingKeys: String, CodingKey {
        case code, message, temporary
        case retryAfterMs = "retry_after_ms"
    }
}

/// A command that could not be read: the error to reply with, and the id to
/// reply to when the frame had a readable one (`nil` replies with `"id": null`).
public struct CommandDecodingError: Error, Sendable, Equatable {
    public let id: Int?
    public let body: ErrorBody
}

/// `{"id": N, "ok": {...}}`
public struct OkReply<Result: Encodable>: Encodable {
    public let id: Int
    public let ok: Result
    public init(id: Int, ok: Result) { self.id = id; self.ok = ok }
}

/// `{"id": N, "error": {...}}`
public struct ErrorReply: Codable, Sendable, Equatable {
    public let id: Int?
    public let error: ErrorBody
    public init(id: Int?, error: ErrorBody) { self.id = id; self.error = error }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)  // explicit null when the id was unreadable
        try c.encode(error, forKey: .error)
    }
}

/// `{"event": "name", "data": {...}}`
public struct Push<Data: Encodable>: Encodable {
    public let event: String
    public let data: Data
    public init(event: String, data: Data) { self.event = event; self.data = data }
}

/// An empty result object, `{}`.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}
