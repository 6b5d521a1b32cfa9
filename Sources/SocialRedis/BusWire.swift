import Foundation
import SocialCore

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

    /// The whole message of `event`: header line and frame.
    static func encode(_ event: BusEvent) -> [UInt8] { header(of: event) + event.frame }

    /// The event in `message`, received on `topic`'s channel. Throws a
    /// `WireError` saying what is wrong with a malformed message.
    static func decode(_ message: [UInt8], topic: Topic) throws -> BusEvent {
        guard message.starts(with: marker) else { throw WireError("no sg1 version marker") }
        guard let end = message.firstIndex(of: newline) else { throw WireError("no end of header line") }
        let json = message[marker.count..<end]
        let frame = Array(message[(end + 1)...])
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
            fields = try JSONDecoder().decode(Header.self, from: Data(json))
        } catch {
            throw WireError("header is not the expected JSON object")
        }
        return BusEvent(topic: topic, frame: frame, ephemeral: fields.ephemeral ?? false,
                        subscription: fields.subscription.map { .init(chat: $0.chat, joined: $0.joined) },
                        position: fields.position, disconnect: fields.disconnect)
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
    }
}
