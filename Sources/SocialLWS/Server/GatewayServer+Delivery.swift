import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import SocialProtocol

extension GatewayServer {
    /// Bus deliveries, in the order the bus hands them over (this node's own
    /// events in the store's commit order). With a bus shared by several
    /// nodes, a chat's events from other nodes can arrive out of position
    /// order: those are put back in order by `ChatReorder`. Service thread.
    func deliver(_ events: [BusEvent]) {
        guard reorder.windowMs > 0 else {
            for event in events { fanOut(event) }
            return
        }
        let now = monotonicMillis()
        let wasHolding = reorder.isHolding
        for event in events {
            if case .chat(let chat) = event.topic, event.position != nil {
                for ready in reorder.offer(event, chat: chat, now: now) { fanOut(ready) }
            } else {
                fanOut(event)
            }
        }
        if reorder.isHolding != wasHolding || reorder.isHolding { scheduleReorderDeadline() }
    }

    /// Queues one event for every local session of its topic: the same frame
    /// bytes for all of them (encoded once, by whoever published it). Service thread.
    func fanOut(_ event: BusEvent) {
        let targets = hub.sessions(of: event.topic)
        if let trace = event.trace, logsCommands { logDelivery(event, trace: trace, sessions: targets.count) }
        if case .presence(let user) = event.topic {
            presenceArrived(event, of: user, to: targets)
            return
        }
        if case .user = event.topic, let change = event.subscription {
            for id in targets { applySubscription(change, from: event.position, to: id) }
            if !change.joined { userLeftChat(targets) }
        }
        if !event.frame.isEmpty {
            counts.eventsQueued += targets.count
            for id in targets {
                guard let session = sessions[id] else { continue }
                if case .chat(let chat) = event.topic, session.joining[chat] != nil {
                    hold(event, for: session, joining: chat)
                } else {
                    enqueue(session, event.frame, ephemeral: event.ephemeral)
                }
            }
        }
        if case .user(let user) = event.topic, let reason = event.disconnect {
            forceDisconnect(user, sessions: targets, reason: reason)
        }
    }

    /// Tells sessions to `sync` (a `resync` event, queued before anything
    /// delivered after it): all of them (nil), or those that follow one of
    /// `topics`. The bus lost events (an outage, a shard that was down, a
    /// publisher's loss), or the reorder window gave up waiting for a chat's
    /// missing events: either way no session sees an event after a hole
    /// before its `resync`. Service thread.
    func resync(following topics: Set<Topic>?, reason: String) {
        let frame = Codec.push(EventName.resync, ResyncEvent(reason: reason))
        guard let topics else {
            for session in sessions.values { enqueue(session, frame, ephemeral: false) }
            return
        }
        var targets = Set<UInt64>()
        for topic in topics { targets.formUnion(hub.sessions(of: topic)) }
        for id in targets { if let session = sessions[id] { enqueue(session, frame, ephemeral: false) } }
    }

    /// At debug level, one line per traced event this node delivers: the
    /// trace id of the command that published it (on whichever node) and
    /// that command's span as `parent_id`. Service thread.
    private func logDelivery(_ event: BusEvent, trace: TraceContext, sessions: Int) {
        let topic: String
        switch event.topic {
        case .chat(let chat): topic = "chat:\(chat)"
        case .user(let user): topic = "user:\(user)"
        case .presence(let user): topic = "presence:\(user)"
        }
        logger.debug("deliver", metadata: [
            "trace_id": .stringConvertible(trace.traceId), "parent_id": .stringConvertible(trace.spanId),
            "topic": .string(topic), "event": .string(FrameScan.eventName(event.frame) ?? "-"),
            "sessions": .stringConvertible(sessions)])
    }

    /// An event of a chat the session is joining waits for the join's
    /// `chat.added`. Only positioned events are kept (typing and read
    /// markers of the moment are dropped); past the send queue's frame bound
    /// the session is told to `sync` instead. Service thread.
    private func hold(_ event: BusEvent, for session: Session, joining chat: ChatID) {
        guard event.position != nil, var held = session.joining[chat] else { return }
        if held.count >= settings.sendQueueMaxFrames {
            enqueue(session, Codec.push(EventName.resync, ResyncEvent(reason: "join_backlog")), ephemeral: false)
            held.removeAll()
        }
        held.append(event)
        session.joining[chat] = held
    }

    /// Closes a user's sessions on this node with 4003 (the backend API's
    /// force-disconnect, arriving through the bus on every node). Service thread.
    private func forceDisconnect(_ user: String, sessions ids: some Collection<UInt64>, reason: String) {
        var closed = 0
        for id in ids {
            guard let session = sessions[id], session.phase != .closing else { continue }
            close(session, code: .forcedDisconnect, reason: reason.isEmpty ? "disconnected by the service" : reason)
            closed += 1
        }
        stats.add(.forcedDisconnects, closed)
        logger.info("force-disconnect", metadata: ["user": "\(user)", "sessions": "\(closed)"])
    }

    /// Queues a frame and asks for a writable callback (once, when the queue
    /// was empty). Service thread.
    func enqueue(_ session: Session, _ frame: [UInt8], ephemeral: Bool, isReply: Bool = false) {
        guard session.phase != .closing else { return }
        let wasEmpty = session.queue.isEmpty
        switch session.queue.push(.init(frame: frame, ephemeral: ephemeral, isReply: isReply)) {
        case .queued:
            break
        case .queuedAfterDropping(let n):
            counts.ephemeralDropped += n
        case .droppedNew:
            counts.ephemeralDropped += 1
            return
        case .overflow:
            counts.slowConsumerCloses += 1
            logger.warning("closing slow consumer", metadata: [
                "session": "\(session.caller.sessionId)", "user": "\(session.caller.userId)",
                "queued_frames": "\(session.queue.count)", "queued_bytes": "\(session.queue.bytes)"])
            close(session, code: .slowConsumer, reason: "send queue overflow; reconnect and sync")
            return
        }
        if wasEmpty && !session.flushQueued {
            session.flushQueued = true
            flushList.append(session)
        }
    }

    /// Writes what this loop turn queued, once per session, just before the
    /// loop waits again (`SG_LOOP_PREPARE`): every reply and event of the turn
    /// in as few frames as they fit. Written straight away rather than from a
    /// writable callback, which would cost two `epoll_ctl` round trips per
    /// write on lws's libuv loop (libuv re-registers a poll handle whenever
    /// lws adds or drops POLLOUT). A socket that takes only part of a write
    /// leaves the rest with lws, which finishes it and then calls `writable`
    /// for the remainder of the queue. Service thread.
    func flushQueued() {
        let list = flushList
        flushList.removeAll(keepingCapacity: true)
        for session in list {
            session.flushQueued = false
            guard session.phase != .closing, sessions[session.id] === session,
                  lws_partial_buffered(session.wsi) == 0 else { continue }
            if writeQueued(session) < 0 {
                // The socket failed. No callback is running to return -1: lws hangs up on its next turn.
                close(session, code: .goingAway, reason: "write failed")
                lws_set_timeout(session.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC)
            }
        }
        if writeBuffer.capacity > Self.writeBufferKeep { writeBuffer = [UInt8](repeating: 0, count: Self.lwsPre) }
    }

    /// lws's writable callback, asked for by a close, a ping, a queue longer
    /// than one turn's frames, or by lws itself once it has sent what a full
    /// socket left over: the close, the ping, then more of the queue. Service thread.
    func writable(_ session: Session) -> Int32 {
        if session.phase == .closing {  // `close` set the reason; the farewell reply goes just before the close frame
            // lws may call again once its close is under way; a second start would hang up without the frame.
            guard !session.closeStarted else { return 0 }
            if let farewell = session.farewell {
                session.farewell = nil
                _ = farewell.withUnsafeBufferPointer { sg_ws_write(session.wsi, $0.baseAddress, $0.count, 0) }
            }
            if lws_send_pipe_choked(session.wsi) != 0 {
                // lws holds part of the farewell: closing now would hang up once it is
                // flushed, without the close frame. Close on the next writable callback.
                lws_callback_on_writable(session.wsi)
                return 0
            }
            let code = session.machine.closeCode ?? .goingAway
            session.closeStarted = true
            lws_close_free_wsi(session.wsi, lws_close_status(UInt32(code.rawValue)), "gateway")
            return 0
        }
        if session.pingDue {
            session.pingDue = false
            if sg_ws_ping(session.wsi) < 0 { return -1 }
        }
        let written = writeQueued(session)
        if writeBuffer.capacity > Self.writeBufferKeep { writeBuffer = [UInt8](repeating: 0, count: Self.lwsPre) }
        return written < 0 ? -1 : 0
    }

    /// Writes queued frames, several messages per frame (`popBatch`, up to
    /// `batchLimit` bytes), until the socket is full or `maxFramesPerWritable`
    /// frames went out; asks for a writable callback while more is queued.
    /// Batches are taken from the bounded queue only as the socket accepts
    /// them, so a slow reader still fills its queue and meets the
    /// slow-consumer policy. Returns -1 when the socket failed. Service thread.
    private func writeQueued(_ session: Session) -> Int {
        var frames = 0
        var messages = 0
        let headroom = Self.lwsPre
        // The first frame goes without asking (lws keeps what a full socket does not
        // take); after that, a write the kernel took only in part says the socket is
        // full. (`lws_send_pipe_choked` would cost a `poll()` per frame.)
        while frames < Self.maxFramesPerWritable, frames == 0 || lws_partial_buffered(session.wsi) == 0 {
            writeBuffer.removeSubrange(headroom...)
            let taken = session.queue.popBatch(maxBytes: batchLimit, into: &writeBuffer)
            if taken == 0 { break }
            let length = writeBuffer.count - headroom
            let n = writeBuffer.withUnsafeMutableBufferPointer {
                sg_ws_write_text_in_place(session.wsi, $0.baseAddress! + headroom, length)
            }
            if n < length { return -1 }
            frames += 1
            messages += taken
        }
        counts.framesSent += frames
        counts.messagesSent += messages
        // After a partial write lws asks for the writable callback itself, once it has sent the rest.
        if !session.queue.isEmpty && lws_partial_buffered(session.wsi) == 0 { lws_callback_on_writable(session.wsi) }
        drain.touched(session.id)
        return frames
    }

    /// Frames one writable callback may write before yielding to other sockets.
    static let maxFramesPerWritable = 16
    /// The write buffer keeps its storage up to this size (a large `sync` reply does not pin memory).
    static let writeBufferKeep = 256 << 10
}
