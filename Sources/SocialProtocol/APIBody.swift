#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON bodies of the backend HTTP API (`/api/v1/...`): the same coder
/// settings as WebSocket frames, and decoding errors that name the field.
/// Stateless; any thread.
public enum APIBody {
    /// Reads a request body as `Body`. An empty body reads as `{}`, so a
    /// type whose fields are all optional needs none.
    /// - Throws: a message naming what is wrong (`name: expected a string`).
    /// `null` is refused for every field the API knows (protocol/openapi.yaml
    /// allows it nowhere; leaving a field out is how its default is asked
    /// for); unknown fields are ignored whatever their value, and so is
    /// what the free-form objects `data` and `meta` hold.
    public static func decode<Body: Decodable>(_ type: Body.Type, from bytes: [UInt8]) throws(APIBodyError) -> Body {
        let data = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? Data("{}".utf8) : Data(bytes)
        do {
            if let value = try? JSONDecoder().decode(JSONValue.self, from: data), let field = nullField(in: value) {
                throw APIBodyError(message: "\(field): null is not allowed (leave the field out instead)")
            }
            return try JSONDecoder().decode(Body.self, from: data)
        } catch let error as APIBodyError {
            throw error
        } catch {
            let message = Codec.describe(error)
            throw APIBodyError(message: message.hasPrefix("frame:") ? "body" + message.dropFirst("frame".count) : message)
        }
    }

    /// The fields of request bodies (protocol/openapi.yaml), at any depth.
    static let knownFields: Set<String> = [
        "name", "scopes", "reason", "bot_id", "text", "kind", "client_msg_id", "reply_to", "attachments", "data",
        "url", "mime", "size", "meta", "user_ids", "type", "title", "body", "priority", "expires_at", "idempotency_key",
    ]
    /// Free-form fields, passed through as they are: `null` may appear inside them.
    static let freeForm: Set<String> = ["data", "meta"]

    /// The path of the first `null` in a known field (`scopes`, `attachments[0].url`), or nil.
    static func nullField(in value: JSONValue, path: String = "") -> String? {
        switch value {
        case .null:
            return path.isEmpty ? "body" : path
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = nullField(in: item, path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let fields):
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) where knownFields.contains(name) {
                let fieldPath = path.isEmpty ? name : "\(path).\(name)"
                if case .null = field { return fieldPath }
                if freeForm.contains(name) { continue }
                if let found = nullField(in: field, path: fieldPath) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    public static func encode<Body: Encodable>(_ value: Body) -> [UInt8] { Codec.encode(value) }
}

/// Why a request body was refused; the message goes in the problem's `detail`.
public struct APIBodyError: Error, Sendable {
    public let message: String
}
