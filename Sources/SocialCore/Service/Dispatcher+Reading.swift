import SocialProtocol

// Reading a chat and saying so: chat.history, chat.typing.

extension Dispatcher {
    /// `chat.history`: a page of messages before or after a seq (or the
    /// latest), ascending, with the caller's own reactions and whether more
    /// exist beyond the page in the direction asked.
    func history(_ args: HistoryArgs, _ caller: Caller) async throws -> HistoryResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        guard args.before == nil || args.after == nil else {
            throw ServiceError.invalidArgs("before", "give before or after, not both")
        }
        let before = try args.before.map { try limits.position($0, field: "before") }
        let after = try args.after.map { try limits.position($0, field: "after") }
        let limit = try limits.historyLimit(args.limit)
        _ = try await requireMember(chat, caller.userId)

        // One more than asked tells whether the page is the last one.
        let fetched = try await store.history(chat, before: before, after: after, limit: limit + 1)
        let more = fetched.count > limit
        let page = !more ? fetched[...] : after != nil ? fetched.prefix(limit) : fetched.suffix(limit)
        let mine = page.isEmpty ? [:] : try await store.reactions(of: caller.userId, in: chat, seqs: page.map(\.seq))
        return HistoryResult(messages: page.map(\.wire), myReactions: mine.wire, more: more)
    }

    /// `chat.typing` for a chat the calling session does not follow (the
    /// pipeline answers the others without the store): `not_found` or
    /// `forbidden`, or, for a member whose session has not heard of the chat
    /// yet, an unthrottled indicator.
    func typing(_ args: TypingArgs, _ caller: Caller) async throws -> TypingResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        _ = try await requireMember(chat, caller.userId)
        publishTyping(chat, caller, span: RequestContext.trace)
        return TypingResult(throttled: false)
    }

    /// Publishes an ephemeral `typing` event of `caller` to `chat`'s members,
    /// carrying the span of the command that asked.
    public func publishTyping(_ chat: ChatID, _ caller: Caller, span: TraceContext?) {
        var typing = event(.chat(chat), EventName.typing,
                           TypingEvent(chatId: chat, userId: caller.userId, deviceId: caller.deviceId), ephemeral: true)
        typing.trace = span
        bus.publish([typing])
    }
}
