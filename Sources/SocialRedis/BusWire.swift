import Foundation
import SocialCore
import SocialProtocol

/// Channel names and the format of a message on a channel (version 1).
///
/// Channels: `<prefix>:c:<chatId>` carries a chat's events, `<prefix>:u:<userId>`
/// a user's, `<prefix>:p:<userId>` a user's presence (the prefix is `sg` by
/// default). A node subscribes to the channels of the chats and users its
/// sessions have, and of the users they watch.
///
/// Message: a one-line header, `\n`, then the frame bytes as they are (binary-safe;
/// the frame may itself contain newlines):
///
///     sg1 {}\n<frame>
///     sg1 {"ephemeral":true}\n<frame>
///     sg1 {"position":42}\n<frame>          (a chat log event)
///     sg1 {"subscription":{"chat":"g_1","joined":true}}\n<frame, possibly empty>
///     sg1 {"disconnect":"reason"}\n                (force-disconnect a user's sessions)
///     sg1 {"position":42,"ts":1764043200123456}\n<frame>   (with the publish time)
///     sg1 {"position":42,"traceparent":"00-4bf9…-00f0…-01","ts":1764043200123456}\n<frame>
///
/// `ts`, when present, is when the publisher wrote the message to Redis, in
/// microseconds since 1970; receivers measure the bus lag from it. It is the
/// header's last key. `traceparent`, when present, is the W3C trace context
/// of the command that published the event (its span), so the node that
/// delivers it logs the same trace id; it comes just before `ts`.
///
/// `sg1 ` is the version marker. The JSON object omits defaults (`ephemeral`
/// false, no `subscription`) and a reader ignores keys it does not know, so
/// fields can be added within version 1. An incompatible change takes a new
/// marker; nodes must read it before any node writes it (rolling upgrades).
///
/// Threads: pure functions on values; any thread.
enum BusWire {
    static let marker: [UInt8] = Array("sg1 ".utf8)

    /// The channel of `topic`.
    static func channel(_ topic: Topic, prefix: String) -> String {
        switch topic {
        case .chat(let chat): return "\(prefix):c:\(chat)"
        case .user(let user): return "\(prefix):u:\(user)"
        case .presence(let user): return "\(prefix):p:\(user)"
        }
    }

    /// The header line of `event`, `\n` included; the frame follows it unchanged.
    static func header(of event: BusEvent) -> [UInt8] {
        var line = untracedHeader(of: event)
        if let trace = event.trace {
            // `line` ends with `}\n`: the member goes before the brace, like `ts`.
            let empty = line[line.count - 3] == UInt8(ascii: "{")
            line.reserveCapacity(line.count + 96)  // the member, and `ts` after it: one allocation
            line.removeLast(2)
            line.append(contentsOf: empty ? traceKey : commaTraceKey)
            trace.appendTraceparent(to: &line)
            line.append(contentsOf: quoteBraceNewline)
        }
        return line
    }

    /// The header line of `event` without its trace.
    private static func untracedHeader(of event: BusEvent) -> [UInt8] {
        if event.subscription == nil, event.disconnect == nil {
            // The headers of nearly every event, without a JSON encoder.
            if let position = event.position, !event.ephemeral {
                return marker + Array("{\"position\":\(position)}\n".utf8)
            }
            if event.position == nil { return event.ephemeral ? ephemeralHeader : plainHeader }
        }
        let fields = Header(ephemeral: event.ephemeral ? true : nil,
                            subscription: event.subscription.map { .init(chat: $0.chat, joined: $0.joined) },
                            position: event.position, disconnect: event.disconnect)
        // Encoding a struct of strings and booleans cannot fail.
        let json = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        return marker + Array(json) + [newline]
    }

    /// The header line of `event` with its publish time `ts` (microseconds since 1970) as the last key.
    static func header(of event: BusEvent, publishedAtMicros ts: Int64) -> [UInt8] {
        var line = header(of: event)
        // `line` ends with `}\n`; an empty object is `{}\n`.
        let closing = line.count - 2
        let empty = line[closing - 1] == UInt8(ascii: "{")
        line.replaceSubrange(closing..., with: Array("\(empty ? "" : ",")\"ts\":\(ts)}\n".utf8))
        return line
    }

    /// The whole message of `event`: header line and frame.
    static func encode(_ event: BusEvent) -> [UInt8] { header(of: event) + event.frame }

    /// The event in `message`, received on `topic`'s channel. Throws a
    /// `WireError` saying what is wrong with a malformed message.
    static func decode(_ message: [UInt8], topic: Topic) throws -> BusEvent {
        try decodeStamped(message, topic: topic).event
    }

    /// The event in `message` and its publish time (`ts`, microseconds since
    /// 1970) when the header has one. Throws like `decode`.
    static func decodeStamped(_ message: [UInt8], topic: Topic) throws -> (event: BusEvent, publishedAtMicros: Int64?) {
        guard message.starts(with: marker) else { throw WireError("no sg1 version marker") }
        guard let end = message.firstIndex(of: newline) else { throw WireError("no end of header line") }
        let stamped = message[marker.count..<end]
        let (unstamped, ts) = splitStamp(stamped)
        let (rest, trace) = splitTrace(unstamped)
        var event = try decode(header: rest, full: stamped, frame: Array(message[(end + 1)...]), topic: topic)
        if let trace { event.trace = trace }
        return (event, ts)
    }

    /// The header without a trailing `"traceparent":"…"` member (version 00,
    /// as this reader writes it), and its trace; the header as is (and nil)
    /// when it has none there. Any other form is left to the JSON decoder.
    private static func splitTrace(_ json: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, TraceContext?) {
        let member = traceKey.count + TraceContext.length + 2  // key, value, closing quote and brace
        guard json.count > member, json.last == UInt8(ascii: "}") else { return (json, nil) }
        let keyStart = json.endIndex - member
        let valueStart = keyStart + traceKey.count
        guard json[keyStart..<valueStart].elementsEqual(traceKey),
              json[json.endIndex - 2] == UInt8(ascii: "\""),
              let trace = TraceContext(traceparentBytes: json[valueStart..<(valueStart + TraceContext.length)])
        else { return (json, nil) }
        let before = keyStart - 1
        switch json[before] {
        case UInt8(ascii: "{"): return (ArraySlice(emptyObject), trace)
        case UInt8(ascii: ","): return (ArraySlice(json[...before].dropLast() + [UInt8(ascii: "}")]), trace)
        default: return (json, nil)
        }
    }

    private static let traceKey: [UInt8] = Array("\"traceparent\":\"".utf8)
    private static let commaTraceKey: [UInt8] = Array(",\"traceparent\":\"".utf8)
    private static let quoteBraceNewline: [UInt8] = Array("\"}\n".utf8)

    /// The header without a trailing `"ts":N` member, and N; the header as is
    /// (and nil) when it has none there.
    private static func splitStamp(_ json: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Int64?) {
        guard json.last == UInt8(ascii: "}") else { return (json, nil) }
        let close = json.index(before: json.endIndex)
        var start = close
        while start > json.startIndex, (0x30...0x39).contains(json[json.index(before: start)]) {
            start = json.index(before: start)
        }
        let digits = json[start..<close]
        guard !digits.isEmpty, digits.count <= 18, start - json.startIndex >= tsKey.count + 1,
              json[(start - tsKey.count)..<start].elementsEqual(tsKey) else { return (json, nil) }
        let ts = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        let before = start - tsKey.count - 1
        switch json[before] {
        case UInt8(ascii: "{"): return (ArraySlice(emptyObject), ts)
        case UInt8(ascii: ","): return (ArraySlice(json[...before].dropLast() + [UInt8(ascii: "}")]), ts)
        default: return (json, nil)
        }
    }

    private static let tsKey: [UInt8] = Array("\"ts\":".utf8)
    private static let emptyObject: [UInt8] = Array("{}".utf8)

    /// Reads a header: the fast paths on `json` (without `ts`), the JSON decoder on `full`.
    private static func decode(header json: ArraySlice<UInt8>, full: ArraySlice<UInt8>, frame: [UInt8],
                               topic: Topic) throws -> BusEvent {
        if json.elementsEqual(plainHeader.dropFirst(marker.count).dropLast()) {
            return BusEvent(topic: topic, frame: frame)
        }
        if json.elementsEqual(ephemeralHeader.dropFirst(marker.count).dropLast()) {
            return BusEvent(topic: topic, frame: frame, ephemeral: true)
        }
        if let position = positionOnly(json) {
            return BusEvent(topic: topic, frame: frame, position: position)
        }
        let fields: Header
        do {
            fields = try JSONDecoder().decode(Header.self, from: Data(full))
        } catch {
            throw WireError("header is not the expected JSON object")
        }
        return BusEvent(topic: topic, frame: frame, ephemeral: fields.ephemeral ?? false,
                        subscription: fields.subscription.map { .init(chat: $0.chat, joined: $0.joined) },
                        position: fields.position, disconnect: fields.disconnect,
                        trace: fields.traceparent.flatMap { TraceContext(traceparent: $0) })
    }

    /// The position of a `{"position":N}` header, read without a JSON decoder.
    private static func positionOnly(_ json: ArraySlice<UInt8>) -> Int64? {
        guard json.starts(with: positionPrefix), json.last == UInt8(ascii: "}") else { return nil }
        let digits = json.dropFirst(positionPrefix.count).dropLast()
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    }

    private static let positionPrefix: [UInt8] = Array("{\"position\":".utf8)

    /// Why a message could not be read.
    struct WireError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private static let newline = UInt8(ascii: "\n")
    private static let plainHeader: [UInt8] = marker + Array("{}\n".utf8)
    private static let ephemeralHeader: [UInt8] = marker + Array("{\"ephemeral\":true}\n".utf8)
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private struct Header: Codable {
        struct Subscription: Codable {
            var chat: String
            var joined: Bool
        }
        var ephemeral: Bool?
        var subscription: Subscription?
        var position: Int64?
        var disconnect: String?
        /// Read only: `header(of:)` writes it by hand.
        var traceparent: String?
    }
}
