/// A Redis reply as the test harness reads it off a raw socket (RESP2).
public enum RESPReply: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8]?)
    case array([RESPReply]?)

    /// The integer of an `:n` reply.
    public var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text of a simple or bulk reply.
    public var text: String? {
        switch self {
        case .simple(let text): return text
        case .bulk(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var elements: [RESPReply]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// Parses one reply at the start of `bytes`: the reply and the bytes it
    /// took, or nil when `bytes` does not hold a whole reply yet.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (RESPReply, Int)? {
        guard let kind = bytes.first, let lineEnd = lineEnd(in: bytes) else { return nil }
        let line = String(decoding: bytes[(bytes.startIndex + 1)..<lineEnd], as: UTF8.self)
        var used = lineEnd + 2 - bytes.startIndex
        switch kind {
        case UInt8(ascii: "+"): return (.simple(line), used)
        case UInt8(ascii: "-"): return (.error(line), used)
        case UInt8(ascii: ":"): return Int(line).map { (.integer($0), used) }
        case UInt8(ascii: "$"):
            guard let length = Int(line) else { return nil }
            if length < 0 { return (.bulk(nil), used) }
            let start = bytes.startIndex + used
            guard bytes.endIndex >= start + length + 2 else { return nil }
            return (.bulk(Array(bytes[start..<(start + length)])), used + length + 2)
        case UInt8(ascii: "*"):
            guard let count = Int(line) else { return nil }
            if count < 0 { return (.array(nil), used) }
            var items: [RESPReply] = []
            for _ in 0..<count {
                guard let (item, size) = parse(bytes[(bytes.startIndex + used)...]) else { return nil }
                items.append(item)
                used += size
            }
            return (.array(items), used)
        default:
            return nil
        }
    }

    private static func lineEnd(in bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}
