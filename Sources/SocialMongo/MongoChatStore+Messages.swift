import SocialCore
import SocialProtocol

/// Appends, edits, deletes and reactions: each a change of the chat's log
/// (see `ChatLog`), checked against the chat's state before it claims a seq.
extension MongoChatStore {
    public func append(_ new: NewMessage) async throws -> AppendResult {
        try await run { log in
            try log.commit(new.chatId) { _, seq in
                // Checked on every attempt: a concurrent send of the same id that
                // claimed the seq first is found here once its change is complete.
                if let clientMsgId = new.clientMsgId,
                   let original = try log.message(new.chatId, sender: new.sender, clientMsgId: clientMsgId) {
                    return .unchanged(AppendResult(message: original, duplicate: true))
                }
                let message = Message(chatId: new.chatId, seq: seq, updatedSeq: seq, sender: new.sender,
                                      senderKind: new.senderKind, kind: new.kind, text: new.text,
                                      clientMsgId: new.clientMsgId, replyTo: new.replyTo, attachments: new.attachments,
                                      data: new.data, system: nil, createdAt: new.createdAt, editedAt: nil,
                                      deleted: false, reactions: [:])
                return .change(writes: [try .insert(message)], chatFields: [:],
                               result: AppendResult(message: message, duplicate: false))
            }
        }
    }

    public func edit(_ chat: ChatID, seq: Seq, text: String, data: JSONValue?, now: Int64) async throws -> Message {
        try await run { log in
            try log.commit(chat) { _, next in
                var message = try log.liveMessage(chat, seq).message
                message.text = text
                if let data { message.data = data }
                message.editedAt = now
                message.updatedSeq = next
                var fields: BSONDocument = ["text": .string(text), "edited": .int64(now)]
                fields.setOptional("data", try StoredJSON.text(data))
                return .change(writes: [.update(chat, seq: seq, set: fields)], chatFields: [:], result: message)
            }
        }
    }

    public func delete(_ chat: ChatID, seq: Seq, now: Int64) async throws -> Message {
        try await run { log in
            try log.commit(chat) { _, next in
                var message = try log.liveMessage(chat, seq).message
                message.deleted = true
                message.text = nil
                message.attachments = []
                message.data = nil
                message.editedAt = now
                message.updatedSeq = next
                let write = FencedWrite.update(chat, seq: seq, set: ["del": true, "edited": .int64(now)],
                                               unset: ["text", "att", "data"])
                return .change(writes: [write], chatFields: [:], result: message)
            }
        }
    }

    public func react(_ chat: ChatID, seq: Seq, user: UserID, emoji: String, add: Bool) async throws -> Message? {
        try await run { log in
            try log.commit(chat) { _, next in
                let stored = try log.liveMessage(chat, seq)
                let reaction = StoredMessage.Reaction(user: user, emoji: emoji)
                guard stored.reactors.contains(reaction) != add else { return .unchanged(nil) }
                let reactors = add ? stored.reactors + [reaction] : stored.reactors.filter { $0 != reaction }
                var message = stored.message
                message.reactions = StoredMessage.counts(reactors)
                message.updatedSeq = next
                let write = FencedWrite.update(chat, seq: seq, set: ["rx": MessageDocuments.reactors(reactors)])
                return .change(writes: [write], chatFields: [:], result: message)
            }
        }
    }
}
