import Foundation
import SocialProtocol

/// The parts of a server message the benchmark and the load-test driver
/// read. Every field is optional so that any reply or push decodes; unknown
/// fields are ignored.
public struct Incoming: Decodable, Sendable {
    public var id: Int?
    public var ok: OkPart?
    public var error: ErrorPart?
    public var event: String?
    public var data: EventPart?

    public struct OkPart: Decodable, Sendable {
        public var message: WireMessage?
        public var duplicate: Bool?
        public var group: WireChat?
        /// A `sync` reply's fields.
        public var chats: [SyncResult.ChatDelta]?
        public var removed: [String]?
        public var more: Bool?
    }

    public struct ErrorPart: Decodable, Sendable {
        public var code: String
        public var message: String
        public var temporary: Bool?
    }

    public struct EventPart: Decodable, Sendable {
        public var message: WireMessage?
    }
}

/// The text of a benchmark message: `bench t=<send time ns> k=<key> ` and
/// padding. The send time (this process's monotonic clock) lets a receiver
/// time the delivery without sharing state with the sender; the key names the
/// sender and its message counter.
public enum BenchText {
    public static func make(sentNs: UInt64, key: UInt64, size: Int) -> String {
        let head = "bench t=\(sentNs) k=\(key) "
        let padding = max(0, size - head.utf8.count)
        return head + String(repeating: "x", count: padding)
    }

    /// The send time and key, or nil for a text this benchmark did not write.
    public static func parse(_ text: String?) -> (sentNs: UInt64, key: UInt64)? {
        guard var text else { return nil }
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// The same, from the text's UTF-8 bytes (what follows may be anything).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> (sentNs: UInt64, key: UInt64)? {
        var index = 0
        func expect(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count,
                  memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0 else { return false }
            index += count
            return true
        }
        func number() -> UInt64? {
            let start = index
            var value: UInt64 = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                value = value &* 10 &+ UInt64(bytes[index] - 0x30)
                index += 1
            }
            return index > start ? value : nil
        }
        guard expect("bench t="), let sent = number(), expect(" k="), let key = number() else { return nil }
        return (sent, key)
    }
}

/// Monotonic nanoseconds of this process.
@inline(__always) public func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// A message key: the sender's index and its message counter.
@inline(__always) public func messageKey(sender: Int, counter: Int) -> UInt64 { UInt64(sender) << 32 | UInt64(counter) }
