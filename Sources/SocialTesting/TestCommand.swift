import Foundation
import SocialProtocol

/// A client command frame, `{"id": N, "op": "...", "args": {...}}` (with
/// `"traceparent"` when set), for tests and test clients.
public struct TestCommand<Args: Encodable>: Encodable {
    public var id: Int
    public var op: String
    public var args: Args
    public var traceparent: String?

    public init(id: Int, op: String, args: Args, traceparent: String? = nil) {
        self.id = id
        self.op = op
        self.args = args
        self.traceparent = traceparent
    }

    /// The command as a text frame's bytes.
    public var frame: [UInt8] { Codec.encode(self) }
}

/// A reply frame as a client reads it: `ok` or `error`, and the id it answers.
public struct TestReply<Result: Decodable>: Decodable {
    public var id: Int?
    public var ok: Result?
    public var error: ErrorBody?

    /// Reads a reply frame.
    public init(frame: [UInt8]) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(frame))
    }
}
