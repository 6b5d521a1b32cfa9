import CGatewayShims
import CLibWebSockets
import Foundation
import Logging
import SocialCore
import SocialProtocol

/// A command's outcome on its way back to the service thread.
struct CommandReply: Sendable {
    let session: UInt64
    let slot: UInt64
    let lane: CommandOrder<PendingCommand>.Lane
    /// The op as sent and when the command arrived, for the command metrics.
    let op: String
    let arrivedNs: UInt64
    /// The command's span, for its log line (nil: the frame was unreadable).
    let span: TraceContext?
    let outcome: CommandOutcome
}

extension GatewayServer {
    /// A chunk of a client message arrived. Service thread.
    func receive(_ session: Session, _ input: UnsafeMutableRawPointer?, _ len: Int) {
        guard session.phase != .closing else { return }
        session.machine.received(now: monotonicMillis())
        countRead(session, len)
        if lws_frame_is_binary(session.wsi) != 0 {
            close(session, code: .unsupportedData, reason: "protocol v1 is JSON text frames only")
            return
        }
        let first = lws_is_first_fragment(session.wsi) != 0
        let last = lws_is_final_fragment(session.wsi) != 0 && lws_remaining_packet_payload(session.wsi) == 0
        if first {
            session.rx.removeAll(keepingCapacity: true)
            session.discarding = false
        }
        if session.discarding { return }
        if session.rx.count + len > settings.maxMessageBytes {
            session.discarding = true
            session.rx = []
            counts.oversizeCloses += 1
            close(session, code: .messageTooBig, reason: "message exceeds \(settings.maxMessageBytes) bytes")
            return
        }
        guard let input, len > 0 else {
            if last { commandArrived(session, session.rx) }
            return
        }
        let chunk = UnsafeRawBufferPointer(start: input, count: len)
        if first && last {
            // The whole message in one callback (nearly always): parse it where lws put it.
            commandArrived(session, Array(chunk))
            return
        }
        session.rx.append(contentsOf: chunk)
        if last {
            let frame = session.rx
            session.rx = []
            commandArrived(session, frame)
        }
    }

    /// Counts what a session received in this read round (`readMore`). Service thread.
    private func countRead(_ session: Session, _ len: Int) {
        let before = session.roundBytes
        if before == 0 { readList.append(session) }
        session.roundBytes = before &+ UInt32(clamping: max(len, 1))
        if before < Self.fullReadBytes, session.roundBytes >= Self.fullReadBytes { fullReaders += 1 }
    }

    /// Reads on from the sockets that gave a full chunk in the last round,
    /// up to `readRoundsPerTurn` chunks each in this turn. lws reads at most
    /// `receiveChunkBytes` from a socket per loop turn, so a sender with many
    /// commands in flight (a bot posting, a client sending its outbox after a
    /// reconnect) had them read about four a turn, and each turn's replies
    /// and deliveries went out in frames of their own; read on, they share
    /// one turn's frames. Service thread, at the turn's end.
    func readMore() {
        var round = 1
        while fullReaders > 0, round < Self.readRoundsPerTurn {
            let readers = readList
            readList.removeAll(keepingCapacity: true)
            fullReaders = 0
            for session in readers {
                let full = session.roundBytes >= Self.fullReadBytes
                session.roundBytes = 0
                // Closed sessions' sockets may already be gone; lws reads a closing one itself.
                guard full, sessions[session.id] === session, !session.closeStarted else { continue }
                var poll = pollfd(fd: lws_get_socket_fd(session.wsi), events: Int16(POLLIN), revents: Int16(POLLIN))
                _ = lws_service_fd(context, &poll)
            }
            round += 1
        }
        for session in readList { session.roundBytes = 0 }
        readList.removeAll(keepingCapacity: true)
        fullReaders = 0
    }

    /// A whole command frame arrived: parse it once, take its place in the
    /// session's order, answer it now or start what may start. Service thread.
    func commandArrived(_ session: Session, _ frame: [UInt8]) {
        counts.commandsReceived += 1
        let arrived = DispatchTime.now().uptimeNanoseconds
        let op: String
        let begin: CommandPipeline.Start
        let commandId: Int?
        // The command's span: nil only for a frame that could not be read.
        var span: TraceContext?
        var job: PendingCommand?
        do {
            let command = try Codec.command(of: frame)
            (op, commandId) = (command.op, command.id)
            let commandSpan = pipeline.span(for: command)
            span = commandSpan
            if draining, command.op != Op.ping {
                begin = .done(.error(id: command.id, ErrorBody(.shuttingDown, "this node is draining; reconnect and retry")))
            } else {
                begin = pipeline.start(command, span: commandSpan, caller: session.caller) { session.follows($0) }
            }
            switch begin {
            case .done: break
            case .log(let change): job = .log(change, id: command.id, span: commandSpan)
            case .task(let command): job = .task(command, span: commandSpan)
            }
        } catch {
            (op, commandId) = ("invalid", error.id)
            begin = .done(.error(id: error.id, error.body))
        }
        let lane: CommandOrder<PendingCommand>.Lane
        switch begin {
        case .done: lane = .immediate
        case .log: lane = .pipelined
        case .task: lane = .barrier
        }
        if op == Op.ping, case .done(let outcome) = begin, outcome.close == nil {
            // Outside the order: a client checks the connection while a slow command is pending.
            // (A ping that closes a flooding client takes the ordered path, which closes.)
            recordCommand(session, op: op, result: outcome.result, arrivedNs: arrived, span: span, reply: outcome.reply)
            enqueue(session, outcome.reply, ephemeral: false, isReply: true)
            return
        }
        switch session.machine.arrive(lane, job: job) {
        case .refuse:
            // Outside the order: a command beyond the limit has no slot.
            let outcome = CommandOutcome.error(id: commandId, ErrorBody(
                .overloaded, "more than \(settings.maxInflight) commands in flight on this connection"))
            recordCommand(session, op: op, result: outcome.result, arrivedNs: arrived, span: span, reply: outcome.reply)
            enqueue(session, outcome.reply, ephemeral: false, isReply: true)
        case .accepted(let slot):
            if case .done(let outcome) = begin {
                finish(CommandReply(session: session.id, slot: slot, lane: .immediate, op: op,
                                    arrivedNs: arrived, span: span, outcome: outcome))
            } else {
                start(session, session.machine.startable())
            }
        }
    }

    /// Starts commands the session's order released: chat-log changes go to
    /// the store's writer in this order; the rest run in tasks. Service thread.
    func start(_ session: Session, _ started: [CommandOrder<PendingCommand>.Started]) {
        for item in started {
            let arrived = DispatchTime.now().uptimeNanoseconds
            let id = session.id
            let slot = item.slot
            let loop = self.loop
            switch item.job {
            case .log(let change, let commandId, let span):
                let op = change.op
                pipeline.submit(change, id: commandId, caller: session.caller, span: span) { outcome in
                    loop.post(.reply(CommandReply(session: id, slot: slot, lane: .pipelined, op: op,
                                                  arrivedNs: arrived, span: span, outcome: outcome)))
                }
            case .task(let command, let span):
                let caller = session.caller
                let dispatcher = self.dispatcher
                // `group.join`: the node receives the chat's events before the
                // join is stored, so none after the join is missed live.
                var joining: ChatID?
                if case .success(.groupJoin(let ref)) = command.args, !session.follows(ref.groupId),
                   session.joining[ref.groupId] == nil {
                    joining = ref.groupId
                    beginJoin(session, ref.groupId)
                }
                // `presence.subscribe`: likewise, the node receives the users'
                // presence (and departures) before the store is asked.
                var watching = false
                if case .success(.presenceSubscribe(let users)) = command.args {
                    watching = beginWatch(session, users)
                }
                let run: @Sendable () -> Void = { [joining] in
                    Task.detached {
                        let outcome = await dispatcher.execute(command, from: caller, span: span)
                        if let joining, outcome.result != CommandOutcome.ok {
                            await self.undoJoin(id, chat: joining)
                        }
                        loop.post(.reply(CommandReply(session: id, slot: slot, lane: .barrier, op: command.op,
                                                      arrivedNs: arrived, span: span, outcome: outcome)))
                    }
                }
                // A join (a watch) runs once the bus delivers the chat's events (the users' presence) here.
                if joining != nil || watching { bus.afterSubscribed(run) } else { run() }
            }
        }
    }

    /// A `group.join` is about to run: the hub (and so the bus) starts
    /// sending this node the chat's events; the session holds them back until
    /// the join's `chat.added` arrives (`applySubscription`). Service thread.
    func beginJoin(_ session: Session, _ chat: ChatID) {
        session.joining[chat] = []
        applyInterest(hub.subscribe(session.id, to: .chat(chat)))
    }

    /// A `group.join` that began to follow its chat failed: the session stops
    /// receiving it, and what it held back is dropped. Service thread.
    func undoJoin(_ id: UInt64, chat: ChatID) {
        guard let session = sessions[id], session.joining.removeValue(forKey: chat) != nil else { return }
        if !session.topics.contains(.chat(chat)) { applyInterest(hub.unsubscribe(session.id, from: .chat(chat))) }
    }

    /// A command finished: its reply goes out in arrival order, its effects
    /// on the session apply, and what was waiting behind it may start. Service thread.
    func finish(_ reply: CommandReply) {
        guard let session = sessions[reply.session] else {
            commandMetrics.record(op: reply.op, result: reply.outcome.result, arrivedNs: reply.arrivedNs)
            return
        }
        let outcome = reply.outcome
        for topic in outcome.unsubscribe { unsubscribe(session, from: topic) }
        var followsChat = false
        for topic in outcome.subscribe {
            if case .presence = topic, session.presenceWatches >= settings.maxPresenceWatches {
                logger.notice("presence watch limit reached", metadata: ["session": "\(session.caller.sessionId)"])
                break
            }
            if case .chat = topic { followsChat = true }
            subscribe(session, to: topic)
        }
        // Only the `presence.subscribe` (a barrier: one at a time) settles its provisional watches.
        let heldPresence = reply.op == Op.presenceSubscribe && reply.lane == .barrier ? settleWatches(session) : []
        if followsChat, bus.isDistributed {
            // The reply (to group.create, chat.open_direct) waits until the bus
            // delivers the new chat's events here: a send the client makes on
            // reading it must reach this session live.
            var settled = outcome
            settled.subscribe = []
            settled.unsubscribe = []
            let held = CommandReply(session: reply.session, slot: reply.slot, lane: reply.lane, op: reply.op,
                                    arrivedNs: reply.arrivedNs, span: reply.span, outcome: settled)
            let loop = self.loop
            bus.afterSubscribed { loop.post(.reply(held)) }
            return
        }
        recordCommand(session, op: reply.op, result: outcome.result, arrivedNs: reply.arrivedNs, span: reply.span,
                      reply: outcome.reply)
        if let code = outcome.close {
            // The reply goes out just before the close frame; whatever else is queued is dropped.
            guard session.phase != .closing else { return }
            if code == .rateLimitExceeded { counts.rateLimitCloses += 1 }
            logger.info("closing a session as its command asked", metadata: [
                "session": "\(session.caller.sessionId)", "user": "\(session.caller.userId)", "code": "\(code.rawValue)"])
            session.farewell = outcome.reply
            close(session, code: code, reason: code == .rateLimitExceeded
                  ? "rate limits exceeded repeatedly; reconnect later and send less" : "closed by the server")
            return
        }
        for frame in session.machine.finish(reply.slot, lane: reply.lane, reply: outcome.reply) {
            enqueue(session, frame, ephemeral: false, isReply: true)
        }
        for frame in heldPresence { enqueue(session, frame, ephemeral: true) }
        start(session, session.machine.startable())
        drain.touched(session.id)
    }
}

extension GatewayServer {
    /// The command metrics, and at debug level one log line per command with
    /// its request id (`<session id>-<command id>`) and its span (`trace_id`,
    /// `span_id`: the parent-id of what the command called and published),
    /// so a command can be followed end to end. Service thread.
    func recordCommand(_ session: Session, op: String, result: String, arrivedNs: UInt64, span: TraceContext?,
                       reply: [UInt8]) {
        commandMetrics.record(op: op, result: result, arrivedNs: arrivedNs)
        guard logsCommands else { return }
        let id = FrameScan.integer(after: "\"id\":", in: reply).map(String.init) ?? "null"
        var metadata: Logger.Metadata = [
            "request_id": .string("\(session.caller.sessionId)-\(id)"), "op": .string(op), "result": .string(result),
            "user": .string(session.caller.userId),
            "duration_us": .stringConvertible((DispatchTime.now().uptimeNanoseconds &- arrivedNs) / 1000)]
        if let span {
            metadata["trace_id"] = .stringConvertible(span.traceId)
            metadata["span_id"] = .stringConvertible(span.spanId)
        }
        logger.debug("command", metadata: metadata)
    }
}

extension LogChange {
    /// The op that asked for the change (the command metrics' label).
    var op: String {
        switch self {
        case .send: Op.chatSend
        case .edit: Op.chatEdit
        case .delete: Op.chatDelete
        case .react: Op.chatReact
        case .read: Op.chatRead
        }
    }
}
