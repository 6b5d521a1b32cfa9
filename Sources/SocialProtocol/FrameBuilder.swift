/// Builds a frame around JSON that is already encoded, so one encoding of a
/// message serves its reply and every event that carries it (a `chat.send`
/// encodes the message once: the ok reply and `message.new` share the bytes).
///
/// Keys are written as given (callers pass wire names, which need no
/// escaping); string values are escaped as JSON requires, with `/` left as
/// is, like `Codec.encode`. The output never holds a raw line feed.
public struct FrameBuilder {
    public private(set) var bytes: [UInt8]
    private var empty = true

    /// Starts an object.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// `"key":` followed by `json`, which must be one encoded JSON value.
    public mutating func raw(_ key: StaticString, _ json: [UInt8]) {
        self.key(key)
        bytes.append(contentsOf: json)
    }

    public mutating func bool(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    public mutating func int(_ key: StaticString, _ value: Int64) {
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// `"key":value` for a key that is data, not a wire name (escaped).
    public mutating func int(dynamic key: String, _ value: Int64) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func string(_ key: StaticString, _ value: String) {
        self.key(key)
        Self.appendString(value, to: &bytes)
    }

    /// Closes the object and returns it.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func key(_ key: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// Appends `value` as a JSON string.
    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)
}

extension Codec {
    /// `{"id":<id>,"ok":<result>}` around an encoded result object.
    public static func ok(id: Int, encodedResult: [UInt8]) -> [UInt8] {
        var frame = FrameBuilder(capacity: encodedResult.count + 32)
        frame.int("id", Int64(id))
        frame.raw("ok", encodedResult)
        return frame.finish()
    }

    /// `{"event":"<name>","data":<data>}` around an encoded data object.
    public static func push(_ event: String, encodedData: [UInt8]) -> [UInt8] {
        var frame = FrameBuilder(capacity: encodedData.count + event.utf8.count + 32)
        frame.string("event", event)
        frame.raw("data", encodedData)
        return frame.finish()
    }
}
