import SocialProtocol

// Presence: per user over all devices and nodes. Sessions report their state;
// users who share a chat may watch each other.

extension Dispatcher {
    /// A session opened: its device is online. Publishes `presence` if the
    /// user's changed.
    public func sessionOpened(_ caller: Caller) async {
        await updatePresence(caller.userId) {
            try await presence.set(caller.userId, SessionPresence(sessionId: caller.sessionId, deviceId: caller.deviceId,
                                                                  state: .online, activity: nil, since: clock()),
                                   ttlMs: limits.presenceTTLMs, now: clock())
        }
    }

    /// A session closed: when it was the user's last, the user goes offline.
    public func sessionClosed(_ caller: Caller) async {
        await updatePresence(caller.userId) {
            try await presence.remove(caller.userId, sessionId: caller.sessionId, now: clock())
        }
    }

    /// The node's heartbeat: its live sessions stay present for another TTL.
    public func presenceHeartbeat(_ sessions: [(user: UserID, sessionId: String)]) async {
        do {
            try await presence.refresh(sessions, ttlMs: limits.presenceTTLMs, now: clock())
        } catch {
            logger.warning("presence heartbeat failed", metadata: ["error": .string("\(error)")])
        }
    }

    /// Takes offline the sessions of dead nodes (their entries expired) and publishes the changes.
    public func sweepPresence() async {
        do {
            for change in try await presence.sweep(now: clock(), limit: 1000) where change.changed {
                publishPresence(change.after)
                await notifications.presenceChanged(change)
            }
        } catch {
            logger.warning("presence sweep failed", metadata: ["error": .string("\(error)")])
        }
    }

    private func updatePresence(_ user: UserID, _ change: () async throws -> PresenceChange) async {
        do {
            let change = try await change()
            if change.changed {
                publishPresence(change.after)
                await notifications.presenceChanged(change)
            }
        } catch {
            logger.warning("presence update failed", metadata: ["user": .string(user), "error": .string("\(error)")])
        }
    }

    /// To every session watching `user`, on every node: `user` left `chat`
    /// (a leave or a kick), so those watches are checked again. No frame:
    /// the transport acts on the subscription change (`joined: false`).
    func presenceDeparture(_ user: UserID, from chat: ChatID) -> BusEvent {
        BusEvent(topic: .presence(user), frame: [], subscription: .init(chat: chat, joined: false))
    }

    func publishPresence(_ presence: Presence) {
        publish(event(.presence(presence.userId), EventName.presence, PresenceEvent(presence: presence.wire), ephemeral: true))
    }

    /// `presence.set`: this session's state (`online`, `away`, `training` with an activity).
    func presenceSet(_ args: PresenceSetArgs, _ caller: Caller) async throws -> PresenceSelfResult {
        guard let state = PresenceState(rawValue: args.state), state != .offline else {
            throw ServiceError.invalidArgs("state", "must be online, away or training")
        }
        var activity: String?
        if let given = args.activity {
            guard state == .training else { throw ServiceError.invalidArgs("activity", "only with state training") }
            activity = try limits.activity(given)
        }
        let change = try await presence.set(
            caller.userId, SessionPresence(sessionId: caller.sessionId, deviceId: caller.deviceId, state: state,
                                           activity: activity, since: clock()),
            ttlMs: limits.presenceTTLMs, now: clock())
        if change.changed {
            publishPresence(change.after)
            await notifications.presenceChanged(change)
        }
        return PresenceSelfResult(presence: change.after.wire)
    }

    /// `presence.subscribe`: watch users this caller may see; returns their presence now.
    func presenceSubscribe(_ args: PresenceUsersArgs, _ caller: Caller, _ effects: inout SessionEffects) async throws -> PresenceListResult {
        let (allowed, denied) = try await visible(args.userIds, to: caller.userId)
        effects.subscribe += allowed.map { .presence($0) }
        let now = try await presence.get(allowed, now: clock())
        return PresenceListResult(presence: now.map(\.wire), denied: denied)
    }

    /// `presence.unsubscribe`: stop watching users.
    func presenceUnsubscribe(_ args: PresenceUsersArgs, _ effects: inout SessionEffects) throws -> Empty {
        let users = try limits.presenceUsers(args.userIds)
        effects.unsubscribe += users.map { .presence($0) }
        return Empty()
    }

    /// `presence.query`: the presence of users this caller may see, once.
    func presenceQuery(_ args: PresenceUsersArgs, _ caller: Caller) async throws -> PresenceListResult {
        let (allowed, denied) = try await visible(args.userIds, to: caller.userId)
        return PresenceListResult(presence: try await presence.get(allowed, now: clock()).map(\.wire), denied: denied)
    }

    /// Of `watched`, the users `watcher` may no longer see: they share no chat
    /// any more. The transport asks when a membership ended (a leave or a
    /// kick reached its sessions, or a bus outage may have hidden one) and
    /// ends those watches; any number of users, no limits applied.
    /// - Throws: a store failure (the transport then ends the watches anyway).
    public func presenceRevoked(_ watched: [UserID], for watcher: UserID) async throws -> [UserID] {
        try await sharing(watched, with: watcher).denied
    }

    /// Splits `users` into those `viewer` may see (themself, or anyone they share a chat with) and the rest.
    private func visible(_ users: [UserID], to viewer: UserID) async throws -> (allowed: [UserID], denied: [UserID]) {
        try await sharing(try limits.presenceUsers(users), with: viewer)
    }

    private func sharing(_ users: [UserID], with viewer: UserID) async throws -> (allowed: [UserID], denied: [UserID]) {
        let mine = Set(try await store.memberships(of: viewer).map(\.chat.id))
        var allowed: [UserID] = []
        var denied: [UserID] = []
        for user in users {
            if user == viewer {
                allowed.append(user)
            } else if try await store.memberships(of: user).contains(where: { mine.contains($0.chat.id) }) {
                allowed.append(user)
            } else {
                denied.append(user)
            }
        }
        return (allowed, denied)
    }
}

extension Presence {
    var wire: WirePresence {
        WirePresence(userId: userId, state: state.rawValue, activity: activity, lastSeen: state == .offline ? lastSeen : nil)
    }
}
