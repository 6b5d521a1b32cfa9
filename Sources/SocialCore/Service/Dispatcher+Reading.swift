import SocialProtocol

// Reading a chat and saying so: chat.history, chat.read, chat.typing.

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

    /// `chat.read`: raises the caller's read marker. Publishes `read` only when
    /// the marker moved.
    func read(_ args: ChatSeqArgs, _ caller: Caller) async throws -> ReadResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        let seq = try limits.position(args.seq, field: "seq")
        let me = try await requireMember(chat, caller.userId)
        let marker = try await store.markRead(chat, user: caller.userId, seq: seq)
        let unread = try await store.unread(chat, user: caller.userId)
        // Compared with the marker read just before: two concurrent reads may
        // both publish, never neither.
        if marker > me.readSeq {
            publish(chatEvent(chat, EventName.read, ReadEvent(chatId: chat, userId: caller.userId, seq: marker)))
        }
        return ReadResult(chatId: chat, readSeq: marker, unread: unread)
    }

    /// `chat.typing`: broadcasts an ephemeral typing indicator, at most one
    /// per `typingIntervalMs` per (user, device, chat). Never stored.
    func typing(_ args: TypingArgs, _ caller: Caller) async throws -> TypingResult {
        let chat = try limits.id(args.chatId, field: "chat_id")
        _ = try await requireMember(chat, caller.userId)
        let key = TypingThrottle.Key(user: caller.userId, device: caller.deviceId, chat: chat)
        guard await typingThrottle.admit(key, now: clock()) else { return TypingResult(throttled: true) }
        publish(event(.chat(chat), EventName.typing,
                      TypingEvent(chatId: chat, userId: caller.userId, deviceId: caller.deviceId), ephemeral: true))
        return TypingResult(throttled: false)
    }
}
