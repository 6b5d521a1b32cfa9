/// Messages encoded by hand: a message is encoded on every change (its reply
/// and every event carry those bytes), and `JSONEncoder` costs ten times as
/// much. The output is what `Codec.encode` writes (the same keys, optional
/// fields omitted when absent), in a fixed key order.
extension WireMessage {
    /// The message as one JSON object.
    public var json: [UInt8] {
        var out = FrameBuilder(capacity: 192 + (text?.utf8.count ?? 0))
        out.string("chat_id", chatId)
        out.int("seq", seq)
        out.int("updated_seq", updatedSeq)
        out.string("sender", sender)
        out.string("sender_kind", senderKind)
        out.string("kind", kind)
        if let text { out.string("text", text) }
        if let clientMsgId { out.string("client_msg_id", clientMsgId) }
        if let replyTo { out.int("reply_to", replyTo) }
        if let attachments {
            out.raw("attachments", JSONWriter.array(attachments) { writer, attachment in
                var a = FrameBuilder(capacity: 128)
                a.string("url", attachment.url)
                if let mime = attachment.mime { a.string("mime", mime) }
                if let name = attachment.name { a.string("name", name) }
                if let size = attachment.size { a.int("size", size) }
                if let meta = attachment.meta { a.raw("meta", JSONWriter.value(meta)) }
                writer.append(contentsOf: a.finish())
            })
        }
        if let data { out.raw("data", JSONWriter.value(data)) }
        if let system {
            var s = FrameBuilder(capacity: 96)
            s.string("action", system.action)
            if let userId = system.userId { s.string("user_id", userId) }
            if let by = system.by { s.string("by", by) }
            if let role = system.role { s.string("role", role) }
            if let title = system.title { s.string("title", title) }
            out.raw("system", s.finish())
        }
        out.int("ts", ts)
        if let editedTs { out.int("edited_ts", editedTs) }
        out.bool("deleted", deleted)
        var reactionsObject = FrameBuilder(capacity: 16 + reactions.count * 16)
        for emoji in reactions.keys.sorted() { reactionsObject.int(dynamic: emoji, Int64(reactions[emoji]!)) }
        out.raw("reactions", reactionsObject.finish())
        return out.finish()
    }
}

/// JSON values written by hand (see `WireMessage.json`).
public enum JSONWriter {
    /// `value` as JSON: numbers as `JSONValue`'s `Encodable` writes them
    /// (integral values below 2^53 without a fraction), object keys sorted.
    public static func value(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    static func array<T>(_ elements: [T], _ write: (inout [UInt8], T) -> Void) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(&out, element)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9_007_199_254_740_992 {
                out.append(contentsOf: String(Int64(n)).utf8)
            } else {
                out.append(contentsOf: "\(n)".utf8)
            }
        case .string(let text): FrameBuilder.appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                FrameBuilder.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(fields[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
