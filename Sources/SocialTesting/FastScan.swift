#if canImport(Glibc)
import Glibc
#endif

/// Reads the two frames a measurement is made of, a `chat.send` ok reply and
/// a `message.new` event, by finding their few keys in the bytes instead of
/// decoding the whole message: with fan-out, this program reads tens of
/// thousands of frames a second on the cores the gateway needs. Keys are
/// found wherever the encoder put them; a key cannot be mistaken for text,
/// where JSON escapes quotes (`\"seq\":`). Anything else returns nil and
/// goes through `JSONDecoder`.
public enum FastScan {
    public enum Frame {
        /// `{"id": N, "ok": {"message": {…, "seq": S, …}, "duplicate": D}}`
        case sendOk(id: Int, seq: Int64, duplicate: Bool)
        /// `{"event": "message.new", "data": {"message": {…}}}`; `bench` is the parsed text, if this run wrote it.
        case newMessage(chatId: String, seq: Int64, bench: (sentNs: UInt64, key: UInt64)?)
    }

    public static func scan(_ line: UnsafeRawBufferPointer) -> Frame? {
        if find("\"event\":\"message.new\"", in: line) != nil {
            guard let seq = integer(after: "\"seq\":", in: line), let chat = string(after: "\"chat_id\":\"", in: line)
            else { return nil }
            let bench = find("\"text\":\"", in: line).flatMap { BenchText.parse(UnsafeRawBufferPointer(rebasing: line[$0...])) }
            return .newMessage(chatId: chat, seq: seq, bench: bench)
        }
        guard find("\"event\":", in: line) == nil, find("\"ok\":{\"message\":", in: line) != nil,
              let id = integer(after: "\"id\":", in: line), let seq = integer(after: "\"seq\":", in: line),
              let duplicate = find("\"duplicate\":", in: line) else { return nil }
        return .sendOk(id: Int(id), seq: seq, duplicate: line.count > duplicate + 4 && line[duplicate] == UInt8(ascii: "t"))
    }

    /// The index just past `pattern`, or nil.
    private static func find(_ pattern: StaticString, in line: UnsafeRawBufferPointer) -> Int? {
        guard let base = line.baseAddress else { return nil }
        let count = pattern.utf8CodeUnitCount
        let first = Int32(pattern.utf8Start[0])
        var offset = 0
        // memchr to each candidate first byte, then compare (Glibc's memmem is not imported).
        while offset + count <= line.count, let hit = memchr(base + offset, first, line.count - offset - count + 1) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, pattern.utf8Start, count) == 0 { return at + count }
            offset = at + 1
        }
        return nil
    }

    private static func integer(after key: StaticString, in line: UnsafeRawBufferPointer) -> Int64? {
        guard var index = find(key, in: line) else { return nil }
        var value: Int64 = 0
        let start = index
        while index < line.count, line[index] >= 0x30, line[index] <= 0x39 {
            value = value &* 10 &+ Int64(line[index] - 0x30)
            index += 1
        }
        return index > start ? value : nil
    }

    /// A string value without escapes (ids are plain ASCII); nil if it has any.
    private static func string(after key: StaticString, in line: UnsafeRawBufferPointer) -> String? {
        guard let start = find(key, in: line) else { return nil }
        var index = start
        while index < line.count, line[index] != UInt8(ascii: "\""), line[index] != UInt8(ascii: "\\") { index += 1 }
        guard index < line.count, line[index] == UInt8(ascii: "\"") else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<index]), as: UTF8.self)
    }
}
