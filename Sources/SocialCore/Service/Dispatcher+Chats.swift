import SocialProtocol

// Chat lists and direct chats: chat.open_direct, chats.list.

extension Dispatcher {
    /// `chat.open_direct`: the direct chat of the caller and another user,
    /// created on first use. Idempotent: every call names the same chat. A new
    /// chat is announced with `chat.added` to both users; the calling session
    /// follows it before it gets the reply.
    func openDirect(_ args: OpenDirectArgs, _ caller: Caller, _ effects: inout SessionEffects) async throws -> OpenDirectResult {
        let other = try limits.otherUser(args.userId, caller: caller.userId,
                                         problem: "cannot open a direct chat with yourself")
        let (chat, created) = try await store.openDirect(newId: ids(.direct), between: caller.userId, and: other,
                                                         now: clock())
        effects.subscribe.append(.chat(chat.id))
        if created {
            // Nothing is in a new chat, so both users' summaries are known without reading them back.
            let summary = chat.wire(role: Role.member.rawValue, readSeq: 0, unread: 0, lastMessage: nil)
            publish(chatAdded(summary, to: caller.userId), chatAdded(summary, to: other))
            return OpenDirectResult(chat: summary, created: true)
        }
        let me = try await requireMember(chat.id, caller.userId)
        let unread = try await store.unread(chat.id, user: caller.userId)
        let summary = chat.wire(role: me.role.rawValue, readSeq: me.readSeq, unread: unread,
                                lastMessage: try await lastMessage(of: chat.id))
        return OpenDirectResult(chat: summary, created: false)
    }

    /// `chats.list`: every chat of the caller, groups and direct chats,
    /// ordered by chat id, each with its latest message.
    func chatsList(_ caller: Caller) async throws -> ChatsListResult {
        let memberships = try await store.memberships(of: caller.userId)
        var chats: [WireChat] = []
        chats.reserveCapacity(memberships.count)
        for membership in memberships {
            chats.append(membership.wire(lastMessage: try await lastMessage(of: membership.chat.id)))
        }
        return ChatsListResult(chats: chats)
    }
}
