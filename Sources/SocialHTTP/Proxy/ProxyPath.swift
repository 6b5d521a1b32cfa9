import SocialCore

/// A client-given path and query that is safe to append to an upstream's
/// address: an absolute path of plain segments, never a URL, another host,
/// a dot segment or an escape that decodes to one.
///
/// Refused with `invalid_args`: anything not starting with a single `/`
/// (`http://…`, `//host/…`, `relative`), bytes outside RFC 3986's path and
/// query characters (spaces, `\`, `#`, controls, raw non-ASCII), malformed
/// `%` escapes, escapes in the path that decode to `.`, `/`, `\`, `%` or a
/// control character (`%2e%2e`, `%2f`, `%5c`, `%252e`), `.` and `..`
/// segments, empty segments (`/a//b`; a trailing `/` is fine), and paths
/// over `maxBytes`.
public struct ProxyPath: Sendable, Equatable {
    /// The path, starting with `/`.
    public let path: String
    /// The query without its `?`; nil when there was none.
    public let query: String?

    /// The longest path and query accepted, bytes.
    public static let maxBytes = 2048

    public init(_ raw: String) throws(ProxyFailure) {
        let bytes = Array(raw.utf8)
        guard bytes.count <= Self.maxBytes else { throw Self.invalid("longer than \(Self.maxBytes) bytes") }
        guard bytes.first == UInt8(ascii: "/") else { throw Self.invalid("must be an absolute path starting with /, not a URL") }
        guard bytes.count == 1 || bytes[1] != UInt8(ascii: "/") else { throw Self.invalid("must not start with //") }
        for byte in bytes where !Self.isAllowed(byte) {
            throw Self.invalid(byte >= 0x80 ? "non-ASCII characters must be percent-encoded"
                                            : "character \(Self.show(byte)) is not allowed")
        }
        let split = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        let pathBytes = Array(bytes[..<split])
        let queryBytes = split < bytes.endIndex ? Array(bytes[(split + 1)...]) : nil

        for byte in try Self.decodedEscapes(pathBytes) {
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\")
                || byte == UInt8(ascii: "%") || byte < 0x20 || byte == 0x7F {
                throw Self.invalid("the escape of \(Self.show(byte)) is not allowed in the path")
            }
        }
        let segments = pathBytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty && index < segments.count - 1 { throw Self.invalid("empty segment (//)") }
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                throw Self.invalid("dot segments (. and ..) are not allowed")
            }
        }
        if let queryBytes { _ = try Self.decodedEscapes(queryBytes) }
        path = String(decoding: pathBytes, as: UTF8.self)
        query = queryBytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The path and query to put on the request line under `base`.
    func target(under base: String) -> String {
        base + path + (query.map { "?" + $0 } ?? "")
    }

    /// RFC 3986 pchar plus `/` and `?`: unreserved, sub-delims, `:`, `@`, `%`.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("-._~!$&'()*+,;=:@/?%".utf8).contains(byte)
        }
    }

    /// The bytes `%XX` escapes stand for; throws on a malformed escape.
    private static func decodedEscapes(_ bytes: [UInt8]) throws(ProxyFailure) -> [UInt8] {
        var decoded: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw invalid("malformed percent escape")
                }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                index += 1
            }
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func show(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }

    private static func invalid(_ problem: String) -> ProxyFailure {
        ProxyFailure(.invalidArgs, "path: \(problem)")
    }
}
