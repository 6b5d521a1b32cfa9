import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import SocialProtocol

extension GatewayServer {
    /// A WebSocket is up: make its session, greet it, load its chats. Service thread.
    func established(_ wsi: OpaquePointer) -> Int32 {
        guard let (identity, deviceId) = pendingUpgrades.removeValue(forKey: wsi) else { return -1 }
        let id = nextSessionId
        nextSessionId += 1
        let caller = Caller(userId: identity.userId, deviceId: deviceId ?? "anon-\(nodeTag)-\(id)",
                            sessionId: "\(nodeTag)-\(id)", kind: identity.isBot ? .bot : .user, scopes: identity.scopes,
                            accessToken: identity.token.isEmpty ? nil : identity.token)
        let now = monotonicMillis()
        let timing = SessionMachine<PendingCommand>.Timing(
            idleTimeoutMs: Int64(settings.idleTimeoutSeconds) * 1000, pingIntervalMs: Int64(settings.pingIntervalSeconds) * 1000,
            tokenLeewaySeconds: Double(settings.tokenLeewaySeconds))
        let session = Session(
            id: id, wsi: wsi, caller: caller,
            machine: SessionMachine(timing: timing, maxInflight: settings.maxInflight, tokenExpiresAt: identity.expiresAt, now: now),
            queue: SendQueue(maxFrames: settings.sendQueueMaxFrames, maxBytes: settings.sendQueueMaxBytes))
        sessions[id] = session
        phases.add(session.phase)
        heartbeatSessions = nil
        timers.schedule(id, at: session.machine.nextCheck(now: now, wallSeconds: Date().timeIntervalSince1970))
        lws_set_opaque_user_data(wsi, UnsafeMutableRawPointer(bitPattern: UInt(id)))
        // lws sized SO_SNDBUF from the (small) receive chunk; give batches room.
        var sendBuffer = sendBufferBytes
        _ = setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        applyInterest(hub.addSession(id, user: caller.userId))
        pipeline.open(caller)
        presencePending.append(.opened(caller))
        counts.connectionsOpened += 1
        stats.setOpen(sessions.count)

        let hello = HelloEvent(
            version: ProtocolVersion.v1, sessionId: caller.sessionId, userId: caller.userId, deviceId: caller.deviceId,
            maxMessageBytes: settings.maxMessageBytes, pingIntervalMs: settings.pingIntervalSeconds * 1000,
            idleTimeoutMs: settings.idleTimeoutSeconds * 1000)
        enqueue(session, Codec.push(EventName.hello, hello), ephemeral: false, isReply: true)

        loadPending.append((id, caller.userId))
        return 0
    }

    /// Loads the chats of the sessions opened in this loop turn, with one
    /// task for all of them (a task and two thread hops per connection were a
    /// fifth of a connection's set-up). Service thread.
    func loadOpened() {
        let batch = loadPending
        loadPending.removeAll(keepingCapacity: true)
        let dispatcher = self.dispatcher
        Task.detached { [weak self] in
            var loaded: [(UInt64, Result<[ChatID], any Error>)] = []
            loaded.reserveCapacity(batch.count)
            for (id, user) in batch {
                do {
                    loaded.append((id, .success(try await dispatcher.chats(of: user))))
                } catch {
                    loaded.append((id, .failure(error)))
                }
            }
            await self?.subscriptionsLoaded(loaded)
        }
    }

    func subscriptionsLoaded(_ loaded: [(UInt64, Result<[ChatID], any Error>)]) {
        for (id, result) in loaded {
            switch result {
            case .success(let chats): subscriptionsLoaded(id, chats: chats)
            case .failure(let error): subscriptionsFailed(id, error: error)
            }
        }
    }

    /// Hands this turn's presence changes (opens and closes, in order) to the presence lane in one item. Service thread.
    func flushPresence() {
        guard !presencePending.isEmpty else { return }
        presence.yield(.changes(presencePending))
        presencePending.removeAll(keepingCapacity: true)
    }

    /// The session's chats are known: it follows them, and once the bus
    /// delivers their events (and its user's) to this node, it may run
    /// commands: a `sync` it sends first cannot miss what is published after. Service thread.
    func subscriptionsLoaded(_ id: UInt64, chats: [String]) {
        guard let session = sessions[id] else { return }
        for chat in chats { subscribe(session, to: .chat(chat)) }
        for change in session.lateSubscriptions {
            change.joined ? subscribe(session, to: .chat(change.chat)) : unsubscribe(session, from: .chat(change.chat))
        }
        session.lateSubscriptions = []
        guard bus.isDistributed else {
            start(session, loaded(session))
            return
        }
        bus.afterSubscribed { Task { await self.subscriptionsActive(id) } }
    }

    /// The bus confirmed the session's subscriptions. Service thread.
    func subscriptionsActive(_ id: UInt64) {
        guard let session = sessions[id] else { return }
        start(session, loaded(session))
    }

    /// The session may run commands (`SessionMachine.loaded`), counted by phase.
    private func loaded(_ session: Session) -> [CommandOrder<PendingCommand>.Started] {
        let before = session.phase
        let startable = session.machine.loaded()
        phases.move(from: before, to: session.phase)
        return startable
    }

    func subscriptionsFailed(_ id: UInt64, error: any Error) {
        guard let session = sessions[id] else { return }
        logger.warning("loading subscriptions failed", metadata: ["user": "\(session.caller.userId)", "error": "\(error)"])
        close(session, code: .internalError, reason: "subscriptions unavailable, reconnect with backoff")
    }

    func subscribe(_ session: Session, to topic: Topic) {
        guard session.topics.insert(topic).inserted else { return }
        if case .presence = topic { session.presenceWatches += 1 }
        applyInterest(hub.subscribe(session.id, to: topic))
    }

    func unsubscribe(_ session: Session, from topic: Topic) {
        guard session.topics.remove(topic) != nil else { return }
        if case .presence = topic { session.presenceWatches -= 1 }
        applyInterest(hub.unsubscribe(session.id, from: topic))
    }

    func applyInterest(_ changes: [Hub.InterestChange]) {
        for change in changes {
            if case .chat(let chat) = change.topic, !change.interested { reorder.forget(chat) }
            bus.setInterest(change.topic, change.interested)
        }
    }

    /// A subscription change on a user's topic (`chat.added`, `chat.removed`).
    /// A session that was joining the chat gets the events it held back from
    /// the join's position on, then follows the chat. Service thread.
    func applySubscription(_ change: BusEvent.Subscription, from position: Seq?, to id: UInt64) {
        guard let session = sessions[id] else { return }
        if change.joined, let held = session.joining.removeValue(forKey: change.chat) {
            session.topics.insert(.chat(change.chat))  // the hub has it since `beginJoin`
            for event in held where (event.position ?? 0) >= (position ?? 0) {
                enqueue(session, event.frame, ephemeral: event.ephemeral)
            }
            return
        }
        if session.phase == .loading {
            session.lateSubscriptions.append(change)
            return
        }
        change.joined ? subscribe(session, to: .chat(change.chat)) : unsubscribe(session, from: .chat(change.chat))
    }

    /// The WebSocket is gone: forget the session, in order with its opening
    /// (its rate-limit buckets here, its presence through the ordered lane). Service thread.
    func closed(_ wsi: OpaquePointer) {
        guard let session = session(of: wsi) else { return }
        lws_set_opaque_user_data(wsi, nil)
        sessions[session.id] = nil
        phases.remove(session.phase)
        heartbeatSessions = nil
        applyInterest(hub.removeSession(session.id, user: session.caller.userId, topics: session.hubTopics))
        pipeline.close(session.caller)
        presencePending.append(.closed(session.caller))
        counts.connectionsClosed += 1
        stats.setOpen(sessions.count)
        if draining {
            drain.closed()
            stopIfDrained(now: monotonicMillis())
        }
    }
}

/// Presence changes of this node's sessions, applied one at a time in the
/// order the service thread saw them (a session's close never overtakes its
/// open), by one task.
enum PresenceWork: Sendable {
    enum Change: Sendable {
        case opened(Caller)
        case closed(Caller)
    }
    /// A loop turn's opens and closes, in order.
    case changes([Change])
    /// The node's live sessions, present for another TTL.
    case heartbeat([(user: UserID, sessionId: String)])
}

extension Dispatcher {
    /// Runs `lane`'s presence changes in order until it finishes.
    func runPresence(_ lane: AsyncStream<PresenceWork>) async {
        for await work in lane {
            switch work {
            case .changes(let changes):
                for change in changes {
                    switch change {
                    case .opened(let caller): await sessionOpened(caller)
                    case .closed(let caller): await sessionClosed(caller)
                    }
                }
            case .heartbeat(let sessions): await presenceHeartbeat(sessions)
            }
        }
    }
}
