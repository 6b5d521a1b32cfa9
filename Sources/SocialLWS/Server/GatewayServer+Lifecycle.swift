import CGatewayShims
import CLibWebSockets
import Foundation
import SocialCore
import SocialProtocol

extension GatewayServer {
    /// Closes with a code: the reason goes to lws now; on the next writable
    /// callback (once lws has flushed what it holds) `writable` writes the
    /// farewell reply, if any, and starts lws's polite close: the close frame,
    /// then the peer's answer. A peer that never lets us write is hung up on
    /// after 5 s.
    ///
    /// Never by returning -1 from a callback: Debian's lws is a debug build,
    /// and on the libuv loop it then closes a second time ("uv repeat test"),
    /// which drops the close frame. Service thread.
    func close(_ session: Session, code: CloseCode, reason: String) {
        let before = session.phase
        guard session.machine.close(code) else { return }
        phases.move(from: before, to: .closing)
        heartbeatSessions = nil
        var bytes = Array(reason.utf8.prefix(120))
        lws_close_reason(session.wsi, lws_close_status(UInt32(code.rawValue)), &bytes, bytes.count)
        lws_callback_on_writable(session.wsi)
        lws_set_timeout(session.wsi, PENDING_TIMEOUT_CLOSE_SEND, 5)
    }

    /// Sends a ping now when lws holds nothing of this socket's (no frame is
    /// half-sent, so the ping goes between whole frames), as `flushQueued`
    /// writes; else on the next writable callback. A ping per writable round
    /// trip cost two `epoll_ctl`s a connection each ping interval. Service thread.
    func ping(_ session: Session) {
        guard lws_partial_buffered(session.wsi) == 0, session.queue.isEmpty else {
            session.pingDue = true
            lws_callback_on_writable(session.wsi)
            return
        }
        if sg_ws_ping(session.wsi) < 0 {
            // The socket failed. No callback is running to return -1: lws hangs up on its next turn.
            close(session, code: .goingAway, reason: "write failed")
            lws_set_timeout(session.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC)
        }
    }

    /// Once a second: pings, idle timeouts and token expiry of the sessions
    /// whose next check has come (`timers`), presence heartbeat, counters,
    /// drain progress. Service thread.
    func tick(now: Int64) {
        let wallNow = Date().timeIntervalSince1970
        for id in timers.due(now: now) {
            guard let session = sessions[id], session.phase != .closing else { continue }  // gone, or closing: no more checks
            switch session.machine.tick(now: now, wallSeconds: wallNow) {
            case .none:
                break
            case .ping:
                ping(session)
            case .close(let code, let reason):
                if code == .policyViolation {
                    counts.tokenExpiredCloses += 1
                } else {
                    counts.idleCloses += 1
                    logger.info("closing idle connection", metadata: ["session": "\(session.caller.sessionId)"])
                }
                close(session, code: code, reason: reason)
            }
            if session.phase != .closing { timers.schedule(id, at: session.machine.nextCheck(now: now, wallSeconds: wallNow)) }
        }
        stats.setConnections(loading: phases.loading, ready: phases.ready, closing: phases.closing)
        publishCounts()
        if now - lastHeartbeatMs >= Int64(settings.presenceHeartbeatSeconds) * 1000 {
            lastHeartbeatMs = now
            let live = heartbeatSessions ?? sessions.values.filter { $0.phase != .closing }
                .map { (user: $0.caller.userId, sessionId: $0.caller.sessionId) }
            heartbeatSessions = live
            flushPresence()
            if !live.isEmpty { presence.yield(.heartbeat(live)) }
        }
        if draining { checkDrain(sessions.keys) }
        if heapTrim.isDue(now: now) {
            // Off this thread: glibc walks the free chunks of every arena.
            DispatchQueue.global(qos: .utility).async { _ = sg_release_free_heap() }
        }
    }

    /// Adds what this thread counted to `stats`: the counters since the last
    /// call, the sockets now, the listener's rests. Service thread.
    func publishCounts() {
        counts.flush(into: stats)
        stats.setSockets(open: socketBudget.open, halfOpen: socketBudget.halfOpenCount)
        let rests = Int(loop.acceptRests)
        stats.add(.acceptRests, rests - acceptRestsPublished)
        acceptRestsPublished = rests
    }

    func startDrain() {
        guard drain.start(now: monotonicMillis(), timeoutMs: Int64(settings.drainTimeoutSeconds) * 1000) else { return }
        logger.info("draining", metadata: ["connections": "\(sessions.count)"])
        checkDrain(sessions.keys)
    }

    /// Closes each of `candidates` (session ids) once its commands are
    /// answered, its queue is sent and it has been quiet (see
    /// `SessionMachine.mayCloseForDrain`); everyone at the deadline; no more
    /// than `--drain-max-closing` at once (`Drain.choose`); stops when none
    /// is left. Service thread.
    func checkDrain(_ candidates: some Sequence<UInt64>) {
        let now = monotonicMillis()
        let pastDeadline = drain.isPastDeadline(now: now)
        let closing = drain.choose(candidates, closing: phases.closing, now: now) { id in
            guard let session = sessions[id] else { return false }
            return session.machine.mayCloseForDrain(now: now, queueEmpty: session.queue.isEmpty, pastDeadline: pastDeadline)
        }
        for id in closing {
            if let session = sessions[id] { close(session, code: .goingAway, reason: "server shutting down") }
        }
        stopIfDrained(now: now)
    }

    /// Stops the loop once the last session is gone and the backend API calls
    /// under way are answered (each ends by `--api-timeout-ms`), or 5 s past
    /// the drain deadline. Service thread.
    func stopIfDrained(now: Int64) {
        guard drain.mayStop(now: now, nothingLeft: sessions.isEmpty && apiById.isEmpty) else { return }
        flushPresence()
        presence.finish()
        stopLoop()
    }
}
