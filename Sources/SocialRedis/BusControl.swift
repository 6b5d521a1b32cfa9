import Foundation
import SocialCore

/// The control channel, `<prefix>:x`, and its messages. Every node subscribes
/// to it on every shard, whatever its sessions follow; a publisher that lost
/// events (`BusLoss`) publishes there, on the shard it lost them on, before
/// anything else, and Redis delivers a connection's publishes in order: every
/// subscribed node hears of the loss before the first event that follows it.
///
/// Messages (the bus's version marker, a JSON header line, nothing after):
///
///     sg1 {"lost":["c:g_1","u:alice","p:bob"]}\n   (events of these topics were lost)
///     sg1 {"lost_all":true}\n                       (events of any topic may have been lost)
///
/// A topic is `c:` + chat id, `u:` + user id, or `p:` + user id (presence).
/// Readers ignore keys and topic kinds they do not know, so other control
/// messages can be added within version 1.
///
/// Threads: pure functions on values; any thread.
enum BusControl {
    static func channel(prefix: String) -> String { "\(prefix):x" }

    /// The announcement of `loss`.
    static func encode(_ loss: BusLoss) -> [UInt8] {
        let message = Message(lost: loss.all ? nil : loss.topics.map(code).sorted(), lostAll: loss.all ? true : nil)
        // Encoding an array of strings cannot fail.
        let json = (try? encoder.encode(message)) ?? Data("{}".utf8)
        return BusWire.marker + Array(json) + [UInt8(ascii: "\n")]
    }

    /// The loss a control message announces; nil for a control message that
    /// announces none (a kind this version does not know). Throws for a
    /// message that is not in the bus format.
    static func decode(_ message: [UInt8]) throws -> BusLoss? {
        guard message.starts(with: BusWire.marker) else { throw BusWire.WireError("no sg1 version marker") }
        let line = message.dropFirst(BusWire.marker.count).prefix { $0 != UInt8(ascii: "\n") }
        let fields: Message
        do {
            fields = try JSONDecoder().decode(Message.self, from: Data(line))
        } catch {
            throw BusWire.WireError("control header is not the expected JSON object")
        }
        if fields.lostAll == true { return .everything }
        guard let lost = fields.lost else { return nil }
        return BusLoss(topics: Set(lost.compactMap(topic)), all: false)
    }

    static func code(_ topic: Topic) -> String {
        switch topic {
        case .chat(let chat): return "c:" + chat
        case .user(let user): return "u:" + user
        case .presence(let user): return "p:" + user
        }
    }

    static func topic(_ code: String) -> Topic? {
        guard code.count >= 2, code.dropFirst().first == ":" else { return nil }
        let id = String(code.dropFirst(2))
        switch code.first {
        case "c": return .chat(id)
        case "u": return .user(id)
        case "p": return .presence(id)
        default: return nil
        }
    }

    private struct Message: Codable {
        var lost: [String]?
        var lostAll: Bool?
        enum CodingKeys: String, CodingKey {
            case lost
            case lostAll = "lost_all"
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
