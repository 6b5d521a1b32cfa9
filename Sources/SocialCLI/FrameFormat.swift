import Foundation

/// One received message, as a line a person can scan: replies and pushes
/// are told apart by their prefix.
///
///     < reply 3 ok {"server_time":1732500000000}
///     < reply 4 error {"code":"not_found","message":"no such chat","temporary":false}
///     < event message.new {"message":{…}}
struct ReceivedMessage {
    enum Kind: Equatable {
        case reply(id: Int?, ok: Bool)
        case event(String)
        case other
    }

    let kind: Kind
    let line: String

    /// Reads one frame. A frame may hold several messages separated by line
    /// feeds (protocol README, "Servers batch").
    static func parse(frame: [UInt8]) -> [ReceivedMessage] {
        String(decoding: frame, as: UTF8.self).split(separator: "\n").map { parse(message: String($0)) }
    }

    static func parse(message text: String) -> ReceivedMessage {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return ReceivedMessage(kind: .other, line: "< ? \(text)")
        }
        if let event = object["event"] as? String {
            return ReceivedMessage(kind: .event(event), line: "< event \(event) \(show(object["data"]))")
        }
        if object.keys.contains("id") {
            let id = (object["id"] as? NSNumber).map { $0.intValue }
            let shownId = id.map(String.init) ?? "null"
            if let ok = object["ok"] {
                return ReceivedMessage(kind: .reply(id: id, ok: true), line: "< reply \(shownId) ok \(show(ok))")
            }
            return ReceivedMessage(kind: .reply(id: id, ok: false),
                                   line: "< reply \(shownId) error \(show(object["error"]))")
        }
        return ReceivedMessage(kind: .other, line: "< ? \(text)")
    }

    /// Compact JSON with sorted keys, so the same message always reads the same.
    private static func show(_ value: Any?) -> String {
        guard let value, let text = try? InputLine.encode(value) else { return "{}" }
        return text
    }
}

/// Why the connection ended, as a line.
func closeLine(code: UInt16?, reason: String) -> String {
    guard let code else { return "< closed without a close frame (1006)" }
    return reason.isEmpty ? "< closed \(code)" : "< closed \(code) \(reason)"
}
