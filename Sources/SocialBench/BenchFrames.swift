import Foundation
import SocialProtocol

/// The parts of a server message the benchmark reads. Every field is
/// optional so that any reply or push decodes; unknown fields are ignored.
struct Incoming: Decodable {
    var id: Int?
    var ok: OkPart?
    var error: ErrorPart?
    var event: String?
    var data: EventPart?

    struct OkPart: Decodable {
        var message: WireMessage?
        var duplicate: Bool?
        var group: WireChat?
    }

    struct ErrorPart: Decodable {
        var code: String
        var message: String
    }

    struct EventPart: Decodable {
        var message: WireMessage?
    }

    /// The messages of one frame: several when the server batches them, one line each.
    static func decode(_ frame: [UInt8], with decoder: JSONDecoder) -> [Incoming?] {
        guard frame.contains(0x0A) else { return [try? decoder.decode(Incoming.self, from: Data(frame))] }
        return frame.split(separator: 0x0A).map { try? decoder.decode(Incoming.self, from: Data($0)) }
    }
}

/// The text of a benchmark message: `bench t=<send time ns> k=<key> ` and
/// padding. The send time (this process's monotonic clock) lets a receiver
/// time the delivery without sharing state with the sender; the key names the
/// sender and its message counter.
enum BenchText {
    static func make(sentNs: UInt64, key: UInt64, size: Int) -> String {
        let head = "bench t=\(sentNs) k=\(key) "
        let padding = max(0, size - head.utf8.count)
        return head + String(repeating: "x", count: padding)
    }

    /// The send time and key, or nil for a text this benchmark did not write.
    static func parse(_ text: String?) -> (sentNs: UInt64, key: UInt64)? {
        guard let text else { return nil }
        var utf8 = Substring(text).utf8
        guard utf8.starts(with: "bench t=".utf8) else { return nil }
        utf8 = utf8.dropFirst(8)
        guard let sent = number(&utf8), utf8.starts(with: " k=".utf8) else { return nil }
        utf8 = utf8.dropFirst(3)
        guard let key = number(&utf8) else { return nil }
        return (sent, key)
    }

    private static func number(_ utf8: inout Substring.UTF8View) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        while let byte = utf8.first, byte >= 0x30, byte <= 0x39 {
            value = value &* 10 &+ UInt64(byte - 0x30)
            digits += 1
            utf8 = utf8.dropFirst()
        }
        return digits > 0 ? value : nil
    }
}

/// Monotonic nanoseconds of this process.
@inline(__always) func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// A message key: the sender's index and its message counter.
@inline(__always) func messageKey(sender: Int, counter: Int) -> UInt64 { UInt64(sender) << 32 | UInt64(counter) }
