import SocialProtocol

// Writing to a chat's log: chat.send, chat.edit, chat.delete, chat.react.

extension Dispatcher {
    /// The kind of workout cards, which carry `data.workout_id`.
    static let workoutKind = "workout"

    /// `chat.send`: stores a message and publishes `message.new`. A retried
    /// `client_msg_id` returns the original with `duplicate: true` and
    /// publishes nothing, so a message is stored once and delivered once.
    func send(_ args: SendArgs, _ caller: Caller) async throws -> SendResult {
        try await send(args, sender: caller.userId, kind: caller.kind == .bot ? .bot : .user)
    }

    /// Stores and publishes a message of `sender`: a member of the chat
    /// (person or bot), or the system (the backend API), which needs no membership.
    func send(_ args: SendArgs, sender: UserID, kind senderKind: SenderKind) async throws -> SendResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        let kind = try limits.kind(args.kind ?? "text")
        guard kind != Message.systemKind else { throw ServiceError.invalidArgs("kind", "\"system\" is reserved") }
        if let text = args.text { try limits.text(text) }
        let attachments = try limits.attachments(args.attachments ?? [])
        if let data = args.data { try limits.json(data, field: "data") }
        let hasText = !(args.text?.isBlank ?? true)
        guard hasText || !attachments.isEmpty || args.data != nil else {
            throw ServiceError.invalidArgs("text", "required unless attachments or data are given")
        }
        if kind == Self.workoutKind { try Self.checkWorkout(args.data) }
        let clientMsgId = try args.clientMsgId.map { try limits.clientMsgId($0) }
        let replyTo = try args.replyTo.map { try limits.seq($0, field: "reply_to") }

        if senderKind == .system {
            guard try await store.chat(chat) != nil else { throw ServiceError.notFound("no chat \(chat)") }
        } else {
            _ = try await requireMember(chat, sender)
        }
        if let replyTo {
            guard try await store.message(chat, seq: replyTo) != nil else {
                throw ServiceError.invalidArgs("reply_to", "no message \(replyTo) in chat \(chat)")
            }
        }
        let result = try await store.append(NewMessage(
            chatId: chat, sender: sender, senderKind: senderKind, kind: kind,
            text: args.text?.isEmpty == true ? nil : args.text, clientMsgId: clientMsgId, replyTo: replyTo,
            attachments: attachments, data: args.data, createdAt: clock()))
        let message = result.message.wire
        if !result.duplicate {
            publish(chatEvent(chat, EventName.messageNew, MessageEvent(message: message)))
        }
        return SendResult(message: message, duplicate: result.duplicate)
    }

    /// `chat.edit`: the author replaces the text (and data) of their message.
    /// Publishes `message.edited`.
    func edit(_ args: EditArgs, _ caller: Caller) async throws -> MessageResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        let seq = try limits.seq(args.seq)
        try limits.text(args.text)
        if let data = args.data { try limits.json(data, field: "data") }

        _ = try await requireMember(chat, caller.userId)
        let original = try await requireMessage(chat, seq)
        guard !original.isSystem else { throw ServiceError.forbidden("system messages cannot be edited") }
        guard original.sender == caller.userId else { throw ServiceError.forbidden("only the author edits a message") }
        guard !original.deleted else { throw ServiceError.conflict("message \(seq) is deleted") }
        guard !args.text.isBlank || !original.attachments.isEmpty || (args.data ?? original.data) != nil else {
            throw ServiceError.invalidArgs("text", "required unless the message has attachments or data")
        }
        if original.kind == Self.workoutKind, let data = args.data { try Self.checkWorkout(data) }

        let edited = try await store.edit(chat, seq: seq, text: args.text, data: args.data, now: clock())
        publish(chatEvent(chat, EventName.messageEdited, MessageEvent(message: edited.wire)))
        return MessageResult(message: edited.wire)
    }

    /// `chat.delete`: the author, or a group's admin or owner, tombstones a
    /// message. Publishes `message.deleted`.
    func delete(_ args: ChatSeqArgs, _ caller: Caller) async throws -> MessageResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        let seq = try limits.seq(args.seq)
        let me = try await requireMember(chat, caller.userId)
        let original = try await requireMessage(chat, seq)
        guard !original.isSystem else { throw ServiceError.forbidden("system messages cannot be deleted") }
        // Only groups have admins: in a direct chat both users are plain members.
        guard original.sender == caller.userId || me.role >= .admin else {
            throw ServiceError.forbidden("only the author or a group admin deletes a message")
        }
        guard !original.deleted else { throw ServiceError.conflict("message \(seq) is already deleted") }

        let deleted = try await store.delete(chat, seq: seq, now: clock())
        publish(chatEvent(chat, EventName.messageDeleted, MessageEvent(message: deleted.wire)))
        return MessageResult(message: deleted.wire)
    }

    /// `chat.react`: adds or removes the caller's reaction. Publishes
    /// `reaction` only when something changed.
    func react(_ args: ReactArgs, _ caller: Caller) async throws -> ReactResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        let seq = try limits.seq(args.seq)
        let emoji = try limits.emoji(args.emoji)
        let add = !(args.remove ?? false)
        _ = try await requireMember(chat, caller.userId)

        guard let changed = try await store.react(chat, seq: seq, user: caller.userId, emoji: emoji, add: add) else {
            return ReactResult(message: try await requireMessage(chat, seq).wire, changed: false)
        }
        let message = changed.wire
        publish(chatEvent(chat, EventName.reaction,
                          ReactionEvent(message: message, userId: caller.userId, emoji: emoji, added: add)))
        return ReactResult(message: message, changed: true)
    }

    /// Message `seq` of `chat`; `not_found` when there is none.
    func requireMessage(_ chat: ChatID, _ seq: Seq) async throws -> Message {
        guard let message = try await store.message(chat, seq: seq) else {
            throw ServiceError.notFound("no message \(seq) in chat \(chat)")
        }
        return message
    }

    /// A workout card's `data` names its workout.
    private static func checkWorkout(_ data: JSONValue?) throws(ServiceError) {
        guard case .object(let fields)? = data, case .string(let id)? = fields["workout_id"], !id.isEmpty else {
            throw .invalidArgs("data.workout_id", "a non-empty string is required for kind \"workout\"")
        }
    }
}
