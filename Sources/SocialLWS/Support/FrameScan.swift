/// Reads one value out of an encoded frame without parsing it (for logs).
enum FrameScan {
    /// The integer right after the first `key` (e.g. `"id":`) in `frame`, if any.
    static func integer(after key: StaticString, in frame: [UInt8]) -> Int? {
        let pattern = key.withUTF8Buffer { Array($0) }
        guard frame.count > pattern.count else { return nil }
        var i = 0
        while i + pattern.count <= frame.count {
            if frame[i] == pattern[0], Array(frame[i..<(i + pattern.count)]) == pattern {
                var j = i + pattern.count
                var negative = false
                if j < frame.count, frame[j] == UInt8(ascii: "-") { negative = true; j += 1 }
                var value = 0
                var digits = 0
                while j < frame.count, frame[j] >= 0x30, frame[j] <= 0x39, digits < 18 {
                    value = value * 10 + Int(frame[j] - 0x30)
                    j += 1
                    digits += 1
                }
                return digits > 0 ? (negative ? -value : value) : nil
            }
            i += 1
        }
        return nil
    }

    /// The event name of a push frame as the codec writes it (`{"event":"name",…`), if it is one.
    static func eventName(_ frame: [UInt8]) -> String? {
        let prefix = #"{"event":""#.utf8
        guard frame.starts(with: prefix) else { return nil }
        let start = prefix.count
        guard let end = frame[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: frame[start..<end], as: UTF8.self)
    }
}
