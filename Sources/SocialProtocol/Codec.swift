#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads client commands and writes replies and pushes as JSON text frames.
/// Stateless and thread-safe: every call makes its own coder.
public enum Codec {
    /// Reads `id` and `op`. A frame that is not a JSON object, or lacks an
    /// integer `id` or a string `op`, is a `bad_request`.
    public static func header(of frame: [UInt8]) throws(CommandDecodingError) -> CommandHeader {
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: Data(frame))
        } catch {
            throw CommandDecodingError(id: nil, body: ErrorBody(.badRequest, "frame is not a JSON object: \(describe(error))"))
        }
        guard let id = raw.id else {
            throw CommandDecodingError(id: nil, body: ErrorBody(.badRequest, "missing or non-integer \"id\""))
        }
        guard let op = raw.op, !op.isEmpty else {
            throw CommandDecodingError(id: id, body: ErrorBody(.badRequest, "missing or non-string \"op\""))
        }
        return CommandHeader(id: id, op: op)
    }

    /// Reads the command's `args` as `Args`. A missing or `null` `args` reads
    /// as `{}`. Errors are `invalid_args` naming the field by its path from
    /// the frame (`args.chats[1].seq: expected an integer`), whether or not
    /// `args` was sent.
    public static func args<Args: Decodable>(_ type: Args.Type, of frame: [UInt8], id: Int) throws(CommandDecodingError) -> Args {
        do {
            return try JSONDecoder().decode(ArgsFrame<Args>.self, from: Data(frame)).args
        } catch {
            // Foundation names no field when a number does not fit an integer field.
            let named = isPathless(error) ? IntegerFieldProbe.error(Args.self, in: frame) ?? error : error
            throw CommandDecodingError(id: id, body: ErrorBody(.invalidArgs, describe(named)))
        }
    }

    public static func ok<Result: Encodable>(id: Int, _ result: Result) -> [UInt8] {
        encode(OkReply(id: id, ok: result))
    }

    public static func error(id: Int?, _ body: ErrorBody) -> [UInt8] {
        encode(ErrorReply(id: id, error: body))
    }

    public static func push<Data: Encodable>(_ event: String, _ data: Data) -> [UInt8] {
        if let hand = data as? any HandEncoded { return push(event, encodedData: hand.json) }
        return encode(Push(event: event, data: data))
    }

    /// Encodes any wire value. Wire types are plain data, so this cannot fail
    /// short of a bug; a failure becomes an `internal` error frame.
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            return Array(#"{"id":null,"error":{"code":"internal","message":"encoding failed","temporary":true}}"#.utf8)
        }
    }

    /// Decodes a wire value (for clients and tests).
    public static func decode<T: Decodable>(_ type: T.Type, from frame: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(frame))
    }

    /// A short, client-readable account of a decoding error: the path and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "malformed JSON" }
        func path(_ context: DecodingError.Context) -> String {
            var p = ""
            for key in context.codingPath {
                if let index = key.intValue { p += "[\(index)]" } else { p += (p.isEmpty ? "" : ".") + key.stringValue }
            }
            return p.isEmpty ? "frame" : p
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent == "frame" ? "" : parent + ".")\(key.stringValue): required field is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(typeName(type)), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "malformed JSON" }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "malformed JSON"
        }
    }

    /// Whether `error` says where in the frame it happened.
    static func isPathless(_ error: any Error) -> Bool {
        guard case DecodingError.dataCorrupted(let context)? = error as? DecodingError else { return true }
        return context.codingPath.isEmpty
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

private struct RawHeader: Decodable {
    let id: Int?
    let op: String?

    enum CodingKeys: String, CodingKey { case id, op }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try? c.decodeIfPresent(Int.self, forKey: .id)
        op = try? c.decodeIfPresent(String.self, forKey: .op)
    }
}

private struct ArgsFrame<Args: Decodable>: Decodable {
    let args: Args
    enum CodingKeys: String, CodingKey { case args }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.args), !(try c.decodeNil(forKey: .args)) {
            args = try c.decode(Args.self, forKey: .args)
        } else {
            // Read as `{"args": {}}`, so error paths start with `args.` as when it is sent.
            args = try JSONDecoder().decode(Self.self, from: Data(#"{"args":{}}"#.utf8)).args
        }
    }
}
