import SocialProtocol

/// The args of the chat-log ops, checked against the limits without the
/// store: what can be refused before the change is queued is refused here,
/// on the caller's thread. What needs the chat's state is `LogRules`' job.
extension ChatLimits {
    /// The kind of workout cards, which carry `data.workout_id`.
    static let workoutKind = "workout"

    /// A workout card's `data` names its workout.
    static func checkWorkout(_ data: JSONValue?) throws(ServiceError) {
        guard case .object(let fields)? = data, case .string(let id)? = fields["workout_id"], !id.isEmpty else {
            throw .invalidArgs("data.workout_id", "a non-empty string is required for kind \"workout\"")
        }
    }

    /// `chat.send` args as the message to store.
    func newMessage(_ args: SendArgs, sender: UserID, kind senderKind: SenderKind, now: Int64) throws(ServiceError) -> NewMessage {
        let chat = try id(args.chatId, field: "chat_id")
        let kind = try self.kind(args.kind ?? "text")
        guard kind != Message.systemKind else { throw .invalidArgs("kind", "\"system\" is reserved") }
        if let text = args.text { try self.text(text) }
        let attachments = try self.attachments(args.attachments ?? [])
        if let data = args.data { try json(data, field: "data") }
        let hasText = !(args.text?.isBlank ?? true)
        guard hasText || !attachments.isEmpty || args.data != nil else {
            throw .invalidArgs("text", "required unless attachments or data are given")
        }
        if kind == Self.workoutKind { try Self.checkWorkout(args.data) }
        let clientMsgId = try args.clientMsgId.map { (value) throws(ServiceError) in try self.clientMsgId(value) }
        let replyTo = try args.replyTo.map { (value) throws(ServiceError) in try seq(value, field: "reply_to") }
        return NewMessage(chatId: chat, sender: sender, senderKind: senderKind, kind: kind,
                          text: args.text?.isEmpty == true ? nil : args.text, clientMsgId: clientMsgId, replyTo: replyTo,
                          attachments: attachments, data: args.data, createdAt: now)
    }

    /// `chat.edit` args as a change by `user`.
    func edit(_ args: EditArgs, by user: UserID, now: Int64) throws(ServiceError) -> LogChange {
        let chat = try id(args.chatId, field: "chat_id")
        let seq = try self.seq(args.seq)
        try text(args.text)
        if let data = args.data { try json(data, field: "data") }
        return .edit(chat, seq: seq, by: user, text: args.text, data: args.data, now: now)
    }

    /// `chat.delete` args as a change by `user`.
    func delete(_ args: ChatSeqArgs, by user: UserID, now: Int64) throws(ServiceError) -> LogChange {
        .delete(try id(args.chatId, field: "chat_id"), seq: try seq(args.seq), by: user, now: now)
    }

    /// `chat.react` args as a change by `user`.
    func react(_ args: ReactArgs, by user: UserID) throws(ServiceError) -> LogChange {
        let chat = try id(args.chatId, field: "chat_id")
        let seq = try self.seq(args.seq)
        let emoji = try self.emoji(args.emoji)
        return .react(chat, seq: seq, user: user, emoji: emoji, add: !(args.remove ?? false))
    }

    /// `chat.read` args as a change by `user`.
    func read(_ args: ChatSeqArgs, by user: UserID) throws(ServiceError) -> LogChange {
        .read(try id(args.chatId, field: "chat_id"), user: user, seq: try position(args.seq, field: "seq"))
    }
}
