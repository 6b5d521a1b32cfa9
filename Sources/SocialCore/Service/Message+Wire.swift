import SocialProtocol

// Domain → wire mapping of messages. Wire types stay separate from stored
// types: a stored field can change without changing the protocol.

extension Message {
    /// The message as clients see it.
    var wire: WireMessage {
        WireMessage(chatId: chatId, seq: seq, updatedSeq: updatedSeq, sender: sender, senderKind: senderKind.rawValue,
                    kind: kind, text: text, clientMsgId: clientMsgId, replyTo: replyTo,
                    attachments: attachments.isEmpty ? nil : attachments.map(\.wire), data: data,
                    system: system?.wire, ts: createdAt, editedTs: editedAt, deleted: deleted, reactions: reactions)
    }

    /// Whether the server wrote it to record a membership or group change.
    var isSystem: Bool { senderKind == .system || kind == Message.systemKind }
}

extension Attachment {
    var wire: WireAttachment { WireAttachment(url: url, mime: mime, name: name, size: size, meta: meta) }

    init(wire: WireAttachment) {
        self.init(url: wire.url, mime: wire.mime, name: wire.name, size: wire.size, meta: wire.meta)
    }
}

extension SystemEvent {
    var wire: WireSystemEvent {
        WireSystemEvent(action: action.rawValue, userId: userId, by: by, role: role?.rawValue, title: title)
    }
}

extension Dictionary where Key == Seq, Value == [String] {
    /// `my_reactions` on the wire: keyed by the seq as a string.
    var wire: [String: [String]] {
        var result: [String: [String]] = [:]
        result.reserveCapacity(count)
        for (seq, emoji) in self where !emoji.isEmpty { result[String(seq)] = emoji }
        return result
    }
}
