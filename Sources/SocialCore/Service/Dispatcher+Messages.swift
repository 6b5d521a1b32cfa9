import SocialProtocol

// Messages from the backend API. The chat-log ops of clients (chat.send,
// chat.edit, chat.delete, chat.react, chat.read) are `ChatLogCommands`.

extension Dispatcher {
    /// Stores and publishes a message of `sender`: a bot that is a member of
    /// the chat, or the system (the backend API), which needs no membership.
    /// A retried `client_msg_id` returns the original with `duplicate: true`
    /// and publishes nothing.
    public func send(_ args: SendArgs, sender: UserID, kind: SenderKind) async throws -> SendResult {
        let message = try limits.newMessage(args, sender: sender, kind: kind, now: clock())
        return try await log.send(message)
    }
}
