import SocialProtocol

// `sync`: what a reconnecting client missed, bounded, resumable.

extension Dispatcher {
    /// `sync`: for each chat the client lists, the messages changed after its
    /// position (each once, in its latest state); chats it does not list come
    /// back as `new` summaries; chats it lists but the user left come back in
    /// `removed`. At most `limit` changes in all; `more` says to call again
    /// with the returned positions. Up-to-date chats are absent, so the cost
    /// grows with what was missed, not with the size of the history: one
    /// `memberships` call, then per chat with news a `changes`, a `reactions`
    /// and a latest-message read.
    func sync(_ args: SyncArgs, _ caller: Caller) async throws -> SyncResult {
        var budget = try limits.syncLimit(args.limit)
        var known: [ChatID: SyncArgs.Position] = [:]
        known.reserveCapacity(args.chats.count)
        for (i, position) in args.chats.enumerated() {
            _ = try limits.id(position.chatId, field: "chats[\(i)].chat_id")
            _ = try limits.position(position.seq, field: "chats[\(i)].seq")
            if let readSeq = position.readSeq { _ = try limits.position(readSeq, field: "chats[\(i)].read_seq") }
            guard known.updateValue(position, forKey: position.chatId) == nil else {
                throw ServiceError.invalidArgs("chats[\(i)].chat_id", "chat \(position.chatId) is listed twice")
            }
        }

        let memberships = try await store.memberships(of: caller.userId)
        let current = Set(memberships.map(\.chat.id))
        let removed = args.chats.map(\.chatId).filter { !current.contains($0) }

        var deltas: [SyncResult.ChatDelta] = []
        for membership in memberships {
            let chat = membership.chat
            guard let position = known[chat.id] else {
                deltas.append(.init(chat: membership.wire(lastMessage: try await lastMessage(of: chat.id)),
                                    changes: [], myReactions: [:], position: chat.seq, more: false, new: true))
                continue
            }
            // An absent read_seq is unknown to the client: the chat comes back so it learns it.
            let readChanged = position.readSeq != membership.member.readSeq
            guard chat.seq > position.seq || readChanged else { continue }

            var changes: [Message] = []
            var more = false
            var newPosition = position.seq
            if chat.seq > position.seq {
                if budget > 0 {
                    // One more than the budget tells whether the chat has more.
                    let fetched = try await store.changes(chat.id, after: position.seq, limit: budget + 1)
                    more = fetched.count > budget
                    changes = Array(fetched.prefix(budget))
                    budget -= changes.count
                    let last = changes.last?.updatedSeq ?? position.seq
                    // Complete: the chat's position as read with the
                    // memberships, or later if changes raced in meanwhile.
                    newPosition = more ? last : max(chat.seq, last)
                } else {
                    more = true
                }
            }
            let mine = changes.isEmpty
                ? [:]
                : try await store.reactions(of: caller.userId, in: chat.id, seqs: changes.map(\.seq))
            deltas.append(.init(chat: membership.wire(lastMessage: try await lastMessage(of: chat.id)),
                                changes: changes.map(\.wire), myReactions: mine.wire, position: newPosition,
                                more: more, new: false))
        }
        let inbox = try await args.notificationsAfter.asyncMap { try await syncNotifications(after: $0, caller) }
        return SyncResult(chats: deltas, removed: removed, more: deltas.contains(where: \.more), notifications: inbox)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
