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
        let info = ConnectionInfo(
            sessionId: "\(nodeTag)-\(id)", userId: identity.userId,
            deviceId: deviceId ?? "anon-\(nodeTag)-\(id)", scopes: identity.scopes, isBot: identity.isBot,
            accessToken: identity.token.isEmpty ? nil : identity.token)
        let now = monotonicMillis()
        let session = Session(id: id, wsi: wsi, info: info, tokenExpiresAt: identity.expiresAt,
                              queue: SendQueue(maxFrames: settings.sendQueueMaxFrames, maxBytes: settings.sendQueueMaxBytes),
                              now: now)
        sessions[id] = session
        lws_set_opaque_user_data(wsi, UnsafeMutableRawPointer(bitPattern: UInt(id)))
        applyInterest(hub.addSession(id, user: info.userId))
        stats.add(.connectionsOpened)
        stats.setOpen(sessions.count)

        let hello = HelloEvent(
            version: ProtocolVersion.v1, sessionId: info.sessionId, userId: info.userId, deviceId: info.deviceId,
            maxMessageBytes: settings.maxMessageBytes, pingIntervalMs: settings.pingIntervalSeconds * 1000,
            idleTimeoutMs: settings.idleTimeoutSeconds * 1000)
        enqueue(session, Codec.push(EventName.hello, hello), ephemeral: false, isReply: true)

        let handler = self.handler
        Task { [weak self] in
            await handler.sessionOpened(info)
            do {
                let chats = try await handler.subscriptions(of: info.userId)
                self?.post(.subscribed(session: id, chats: chats))
            } catch {
                self?.logger.warning("loading subscriptions failed", metadata: ["user": "\(info.userId)", "error": "\(error)"])
                self?.post(.subscriptionFailed(session: id))
            }
        }
        return 0
    }

    /// Subscriptions are in place: the session may run commands. Service thread.
    func subscriptionsLoaded(_ id: UInt64, chats: [String]) {
        guard let session = sessions[id] else { return }
        for chat in chats { subscribe(session, to: .chat(chat)) }
        for change in lateSubscriptions.removeValue(forKey: id) ?? [] {
            change.joined ? subscribe(session, to: .chat(change.chat)) : unsubscribe(session, from: .chat(change.chat))
        }
        if session.phase == .loading { session.phase = .ready }
        pump(session)
    }

    func subscribe(_ session: Session, to topic: Topic) {
        session.topics.insert(topic)
        applyInterest(hub.subscribe(session.id, to: topic))
    }

    func unsubscribe(_ session: Session, from topic: Topic) {
        session.topics.remove(topic)
        applyInterest(hub.unsubscribe(session.id, from: topic))
    }

    func applyInterest(_ changes: [Hub.InterestChange]) {
        for change in changes {
            if case .chat(let chat) = change.topic, !change.interested { reorder.forget(chat) }
            bus.setInterest(change.topic, change.interested)
        }
    }

    /// A chunk of a client message arrived. Service thread.
    func receive(_ session: Session, _ input: UnsafeMutableRawPointer?, _ len: Int) {
        guard session.phase != .closing else { return }
        session.lastReceiveMs = monotonicMillis()
        if lws_frame_is_binary(session.wsi) != 0 {
            close(session, code: CloseCode.unsupportedData.rawValue, reason: "protocol v1 is JSON text frames only")
            return
        }
        if lws_is_first_fragment(session.wsi) != 0 {
            session.rx.removeAll(keepingCapacity: true)
            session.discarding = false
        }
        if session.discarding { return }
        if session.rx.count + len > settings.maxMessageBytes {
            session.discarding = true
            session.rx = []
            stats.add(.oversizeCloses)
            close(session, code: CloseCode.messageTooBig.rawValue, reason: "message exceeds \(settings.maxMessageBytes) bytes")
            return
        }
        if let input, len > 0 {
            session.rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len))
        }
        if lws_is_final_fragment(session.wsi) != 0 && lws_remaining_packet_payload(session.wsi) == 0 {
            let frame = session.rx
            session.rx = []
            commandArrived(session, frame)
        }
    }

    /// A whole command frame arrived. Service thread.
    func commandArrived(_ session: Session, _ frame: [UInt8]) {
        stats.add(.commandsReceived)
        let header = try? Codec.header(of: frame)
        if let header, header.op == Op.ping {
            enqueue(session, Codec.ok(id: header.id, PingResult(serverTime: wallMillis())), ephemeral: false, isReply: true)
            return
        }
        if draining {
            let error = ErrorBody(.shuttingDown, "this node is draining; reconnect and retry")
            enqueue(session, Codec.error(id: header?.id, error), ephemeral: false, isReply: true)
            return
        }
        guard session.inflight < settings.maxInflight else {
            let error = ErrorBody(.overloaded, "more than \(settings.maxInflight) commands in flight on this connection")
            enqueue(session, Codec.error(id: header?.id, error), ephemeral: false, isReply: true)
            return
        }
        session.pending.append(frame)
        pump(session)
    }

    /// Starts the session's next command when none is running: commands of a
    /// connection run one at a time, in the order they arrived. Service thread.
    func pump(_ session: Session) {
        guard session.phase == .ready, !session.busy, !session.pending.isEmpty else { return }
        session.busy = true
        let frame = session.pending.removeFirst()
        let id = session.id
        let info = session.info
        let handler = self.handler
        Task { [weak self] in
            let outcome = await handler.handle(frame, from: info)
            self?.post(.reply(session: id, outcome: outcome))
        }
    }

    func commandFinished(_ id: UInt64, _ outcome: CommandOutcome) {
        guard let session = sessions[id] else { return }
        session.busy = false
        for topic in outcome.unsubscribe { unsubscribe(session, from: topic) }
        for topic in outcome.subscribe {
            let watches = session.topics.count { if case .presence = $0 { true } else { false } }
            guard watches < settings.maxPresenceWatches else {
                logger.notice("presence watch limit reached", metadata: ["session": "\(session.info.sessionId)"])
                break
            }
            subscribe(session, to: topic)
        }
        enqueue(session, outcome.reply, ephemeral: false, isReply: true)
        pump(session)
        if draining { checkDrain() }
    }

    /// Queues a frame and asks for a writable callback. Service thread.
    func enqueue(_ session: Session, _ frame: [UInt8], ephemeral: Bool, isReply: Bool = false) {
        guard session.phase != .closing else { return }
        let wasEmpty = session.queue.isEmpty
        switch session.queue.push(.init(frame: frame, ephemeral: ephemeral, isReply: isReply)) {
        case .queued:
            break
        case .queuedAfterDropping(let n):
            stats.add(.ephemeralDropped, n)
        case .droppedNew:
            stats.add(.ephemeralDropped)
            return
        case .overflow:
            stats.add(.slowConsumerCloses)
            logger.warning("closing slow consumer", metadata: [
                "session": "\(session.info.sessionId)", "user": "\(session.info.userId)",
                "queued_frames": "\(session.queue.count)", "queued_bytes": "\(session.queue.bytes)"])
            close(session, code: CloseCode.slowConsumer.rawValue, reason: "send queue overflow; reconnect and sync")
            return
        }
        if wasEmpty { lws_callback_on_writable(session.wsi) }
    }

    /// The socket can take more: write queued frames until it is full. Service thread.
    func writable(_ session: Session) -> Int32 {
        if session.phase == .closing { return -1 }  // the close reason was set by `close`
        if session.pingDue {
            session.pingDue = false
            if sg_ws_ping(session.wsi) < 0 { return -1 }
        }
        var written = 0
        while lws_send_pipe_choked(session.wsi) == 0, written < 64, let item = session.queue.pop() {
            let n = item.frame.withUnsafeBufferPointer { sg_ws_write(session.wsi, $0.baseAddress, $0.count, 0) }
            if n < item.frame.count { return -1 }
            written += 1
        }
        stats.add(.framesSent, written)
        if !session.queue.isEmpty { lws_callback_on_writable(session.wsi) }
        if draining { checkDrain() }
        return 0
    }

    /// Closes with a code: the reason goes to lws now, the close frame on the
    /// next writable callback (returning -1 from a receive callback does not
    /// reliably send one). Service thread.
    func close(_ session: Session, code: UInt16, reason: String) {
        guard session.phase != .closing else { return }
        session.phase = .closing
        session.closeCode = code
        var bytes = Array(reason.utf8.prefix(120))
        lws_close_reason(session.wsi, lws_close_status(UInt32(code)), &bytes, bytes.count)
        lws_callback_on_writable(session.wsi)
        // Hang up even if the peer never lets us write the close frame.
        lws_set_timeout(session.wsi, PENDING_TIMEOUT_CLOSE_SEND, 5)
    }

    /// The WebSocket is gone. Service thread.
    func closed(_ wsi: OpaquePointer) {
        guard let session = session(of: wsi) else { return }
        lws_set_opaque_user_data(wsi, nil)
        sessions[session.id] = nil
        lateSubscriptions[session.id] = nil
        applyInterest(hub.removeSession(session.id, user: session.info.userId, topics: session.topics))
        let handler = self.handler
        let info = session.info
        Task { await handler.sessionClosed(info) }
        stats.add(.connectionsClosed)
        stats.setOpen(sessions.count)
        if draining { checkDrain() }
    }

    /// Bus deliveries: a chat's log events in position order (see
    /// `ChatReorder`), subscription changes before frames. Service thread.
    func deliver(_ events: [BusEvent]) {
        let now = monotonicMillis()
        for event in events {
            if case .chat(let chat) = event.topic, event.position != nil {
                for ready in reorder.offer(event, chat: chat, now: now) { fanOut(ready) }
            } else {
                fanOut(event)
            }
        }
    }

    /// Delivers events held past the reorder window. Service thread.
    func flushReorder() {
        guard reorder.isHolding else { return }
        for event in reorder.expire(now: monotonicMillis()) { fanOut(event) }
    }

    private func fanOut(_ events: BusEvent...) {
        for event in events {
            let targets = hub.sessions(of: event.topic)
            if case .user = event.topic, let change = event.subscription {
                for id in targets { applySubscription(change, to: id) }
            }
            if !event.frame.isEmpty {
                stats.add(.eventsQueued, targets.count)
                for id in targets {
                    if let session = sessions[id] { enqueue(session, event.frame, ephemeral: event.ephemeral) }
                }
            }
            if case .user(let user) = event.topic, let reason = event.disconnect {
                forceDisconnect(user, sessions: targets, reason: reason)
            }
        }
    }

    /// Closes a user's sessions on this node with 4003 (the backend API's
    /// force-disconnect, arriving through the bus on every node). Service thread.
    private func forceDisconnect(_ user: String, sessions ids: some Collection<UInt64>, reason: String) {
        var closed = 0
        for id in ids {
            guard let session = sessions[id], session.phase != .closing else { continue }
            close(session, code: CloseCode.forcedDisconnect.rawValue, reason: reason.isEmpty ? "disconnected by the service" : reason)
            closed += 1
        }
        stats.add(.forcedDisconnects, closed)
        logger.info("force-disconnect", metadata: ["user": "\(user)", "sessions": "\(closed)"])
    }

    private func applySubscription(_ change: BusEvent.Subscription, to id: UInt64) {
        guard let session = sessions[id] else { return }
        if session.phase == .loading {
            lateSubscriptions[id, default: []].append(change)
            return
        }
        change.joined ? subscribe(session, to: .chat(change.chat)) : unsubscribe(session, from: .chat(change.chat))
    }

    /// Once a second: pings, idle timeouts, drain progress. Service thread.
    func tick() {
        let now = monotonicMillis()
        let idleMs = Int64(settings.idleTimeoutSeconds) * 1000
        let pingMs = Int64(settings.pingIntervalSeconds) * 1000
        let wallNow = Date().timeIntervalSince1970
        let leeway = Double(settings.tokenLeewaySeconds)
        for session in sessions.values where session.phase != .closing {
            if wallNow > session.tokenExpiresAt + leeway {
                stats.add(.tokenExpiredCloses)
                close(session, code: CloseCode.policyViolation.rawValue, reason: "access token expired; reconnect with a fresh token")
            } else if now - session.lastReceiveMs > idleMs {
                stats.add(.idleCloses)
                logger.info("closing idle connection", metadata: [
                    "session": "\(session.info.sessionId)", "idle_ms": "\(now - session.lastReceiveMs)"])
                close(session, code: CloseCode.idleTimeout.rawValue, reason: "idle timeout")
            } else if now - session.lastPingMs >= pingMs {
                session.lastPingMs = now
                session.pingDue = true
                lws_callback_on_writable(session.wsi)
            }
        }
        if now - lastHeartbeatMs >= Int64(settings.presenceHeartbeatSeconds) * 1000 {
            lastHeartbeatMs = now
            let live = sessions.values.filter { $0.phase != .closing }.map(\.info)
            let handler = self.handler
            if !live.isEmpty { Task { await handler.heartbeat(live) } }
        }
        if draining { checkDrain() }
    }

    /// How long a draining session must have received nothing before it is closed.
    static let drainQuietMs: Int64 = 300

    func startDrain() {
        guard !draining else { return }
        draining = true
        drainDeadlineMs = monotonicMillis() + Int64(settings.drainTimeoutSeconds) * 1000
        logger.info("draining", metadata: ["connections": "\(sessions.count)"])
        checkDrain()
    }

    /// Closes each session once its commands are done, its queue is sent and
    /// it has been quiet for `drainQuietMs` (frames the client sent before the
    /// signal may still be in the socket: they get replies too); everyone at
    /// the deadline; stops when none is left. Service thread.
    func checkDrain() {
        let now = monotonicMillis()
        let pastDeadline = now > drainDeadlineMs
        for session in sessions.values where session.phase != .closing {
            let quiet = now - session.lastReceiveMs >= Self.drainQuietMs
            if pastDeadline || (session.inflight == 0 && session.queue.isEmpty && quiet) {
                close(session, code: CloseCode.goingAway.rawValue, reason: "server shutting down")
            }
        }
        if sessions.isEmpty || now > drainDeadlineMs + 5000 {
            stopLoop()
        }
    }
}
