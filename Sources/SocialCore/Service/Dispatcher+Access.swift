import SocialProtocol

// Who may do what: the checks every op starts with. Stores only store; the
// service enforces the rules.

extension Dispatcher {
    /// `user`'s membership of `chat`. A missing chat is `not_found`; a chat
    /// the user is not a member of is `forbidden` (only members read or write).
    /// One store call when the user is a member.
    func requireMember(_ chat: ChatID, _ user: UserID) async throws -> Member {
        if let member = try await store.member(chat, user) { return member }
        guard try await store.chat(chat) != nil else { throw ServiceError.notFound("no chat \(chat)") }
        throw ServiceError.forbidden("not a member of chat \(chat)")
    }

    /// The group `id` (the `group_id` arg); `not_found` when there is none
    /// (or `id` is a direct chat).
    func requireGroup(_ id: ChatID) async throws -> Chat {
        _ = try limits.id(id, field: "group_id")
        guard let chat = try await store.chat(id), chat.kind == .group else {
            throw ServiceError.notFound("no group \(id)")
        }
        return chat
    }

    /// The group `id` and `user`'s membership of it; `forbidden` for non-members.
    func requireGroupMember(_ id: ChatID, _ user: UserID) async throws -> (Chat, Member) {
        let group = try await requireGroup(id)
        guard let member = try await store.member(id, user) else {
            throw ServiceError.forbidden("not a member of group \(id)")
        }
        return (group, member)
    }

    /// `user`'s membership of `group`; `not_found` when they are not a member.
    func requireTarget(_ group: ChatID, _ user: UserID) async throws -> Member {
        guard let member = try await store.member(group, user) else {
            throw ServiceError.notFound("\(user) is not a member of group \(group)")
        }
        return member
    }

    /// The latest message of `chat`, for chat summaries.
    func lastMessage(of chat: ChatID) async throws -> Message? {
        try await store.history(chat, before: nil, after: nil, limit: 1).last
    }
}

// Events: encoded once here, published after the store call they report.

extension Dispatcher {
    /// A push to every session of `topic`.
    /// - Parameters:
    ///   - topic: a chat's members or one user's devices.
    ///   - name: an `EventName`.
    ///   - data: the event's payload.
    ///   - ephemeral: dropped first for slow clients (typing).
    ///   - subscription: on user topics, which chat the user's sessions start or stop receiving.
    func event<Data: Encodable>(_ topic: Topic, _ name: String, _ data: Data, ephemeral: Bool = false,
                                subscription: BusEvent.Subscription? = nil) -> BusEvent {
        BusEvent(topic: topic, frame: Codec.push(name, data), ephemeral: ephemeral, subscription: subscription)
    }

    /// An event to a chat's members; a change recorded in the chat's log
    /// carries its position, so receivers deliver the chat's events in order.
    func chatEvent<Data: Encodable>(_ chat: ChatID, _ name: String, _ data: Data) -> BusEvent {
        var event = event(.chat(chat), name, data)
        event.position = (data as? any ChatLogEvent)?.message.updatedSeq
        return event
    }

    /// `chat.added` to `user`'s devices, subscribing them to the chat from
    /// its position now (`chat.seq`) on.
    func chatAdded(_ chat: WireChat, to user: UserID) -> BusEvent {
        var added = event(.user(user), EventName.chatAdded, ChatAddedEvent(chat: chat),
                          subscription: .init(chat: chat.chatId, joined: true))
        added.position = chat.seq
        return added
    }

    /// `chat.removed` to `user`'s devices, unsubscribing them from the chat.
    func chatRemoved(_ chat: ChatID, reason: String, from user: UserID) -> BusEvent {
        event(.user(user), EventName.chatRemoved, ChatRemovedEvent(chatId: chat, reason: reason),
              subscription: .init(chat: chat, joined: false))
    }

    /// Publishes `events` in order, in one call, with the running command's span.
    func publish(_ events: BusEvent...) {
        bus.publish(events, trace: RequestContext.trace)
    }

    /// Applies a membership or group change and publishes its events from the
    /// store's completion, so they leave in the chat's commit order, ahead of
    /// any later change of the chat (the chat-log ops publish the same way).
    func commit(_ change: MembershipChange, to chat: ChatID,
                events: @escaping @Sendable (Message) -> [BusEvent]) async throws -> Message {
        let span = RequestContext.trace  // the completion runs on the store's thread, outside the task
        return try await withCheckedThrowingContinuation { continuation in
            store.submit(change, to: chat, now: clock()) { [bus] result in
                if case .success(let message) = result { bus.publish(events(message), trace: span) }
                continuation.resume(with: result)
            }
        }
    }
}
