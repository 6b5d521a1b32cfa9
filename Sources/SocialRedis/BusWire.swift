import Foundation
import SocialCore

/// Channel names and the format of a message on a channel (version 1).
///
/// Channels: `<prefix>:c:<chatId>` carries a chat's events, `<prefix>:u:<userId>`
/// a user's (the prefix is `sg` by default). A node subscribes to the channels
/// of the chats and users its sessions have.
///
/// Message: a one-line header, `\n`, then the frame bytes as they are (binary-safe;
/// the frame may itself contain newlines):
///
///     sg1 {}\n<frame>
///     sg1 {"ephemeral":true}\n<frame>
///     sg1 {"subscription":{"chat":"g_1","joined":true}}\n<frame, possibly empty>
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
        }
    }

    /// The header line of `event`, `\n` included; the frame follows it unchanged.
    static func header(of event: BusEvent) -> [UInt8] {
        if event.subscription == nil {
            // The two headers of nearly every event, without a JSON encoder.
            return event.ephemeral ? ephemeralHeader : plainHeader
        }
        let fields = Header(ephemeral: event.ephemeral ? true : nil,
                            subscription: event.subscription.map { .init(chat: $0.chat, joined: $0.joined) })
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
        let fields: Header
        do {
            fields = try JSONDecoder().decode(Header.self, from: Data(json))
        } catch {
            throw WireError("header is not the expected JSON object")
        }
        return BusEvent(topic: topic, frame: frame, ephemeral: fields.ephemeral ?? false,
                        subscription: fields.subscription.map { .init(chat: $0.chat, joined: $0.joined) })
    }

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
    }
}
