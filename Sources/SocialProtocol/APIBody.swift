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
    public static func decode<Body: Decodable>(_ type: Body.Type, from bytes: [UInt8]) throws(APIBodyError) -> Body {
        let data = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? Data("{}".utf8) : Data(bytes)
        do {
            return try JSONDecoder().decode(Body.self, from: data)
        } catch {
            let message = Codec.describe(error)
            throw APIBodyError(message: message.hasPrefix("frame:") ? "body" + message.dropFirst("frame".count) : message)
        }
    }

    public static func encode<Body: Encodable>(_ value: Body) -> [UInt8] { Codec.encode(value) }
}

/// Why a request body was refused; the message goes in the problem's `detail`.
public struct APIBodyError: Error, Sendable {
    public let message: String
}
