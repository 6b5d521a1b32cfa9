import Foundation
import SocialLWS
import SocialProtocol
import SocialTesting

/// One simulated device: a user with one connection, its chats and its
/// in-flight sends. The client loop's thread calls the `ClientDelegate`
/// methods; the worker's scheduler thread connects, sends and disconnects.
/// `lock` guards every `var`, hence `@unchecked Sendable`. Callbacks of
/// setup calls run after the lock is released.
final class LoadClient: ClientDelegate, @unchecked Sendable {
    enum State { case idle, connecting, open, closing, closed }

    let index: Int
    let user: String
    let metrics: Metrics
    private let loop: WebSocketClientLoop
    private let request: ClientRequest
    private let runTag: String
    private let textBytes: Int
    private let decoder = JSONDecoder()  // loop thread only
    private let lock = NSLock()

    private var connection: ClientConnection?
    private(set) var state = State.idle
    private var connectStartNs: UInt64 = 0
    /// When the reconnection that must end with a `sync` began, for the resync time.
    private var resyncStartNs: UInt64 = 0
    private var closeIntended = false
    /// After the next open, call `sync` before anything else counts.
    private var syncOnOpen = false
    private var syncing = false
    private var buffered: [(chat: String, seq: Int64, bench: (sentNs: UInt64, key: UInt64)?)] = []
    private var nextId = 1
    private var calls: [Int: (Incoming) -> Void] = [:]
    private var inflight: [Int: (sentNs: UInt64, chat: String)] = [:]
    private var counter = 0
    private(set) var chats: [String: ChatTrack] = [:]
    /// Set when a `sync` finished after a reconnect; the worker reads it.
    private(set) var resyncedAtNs: UInt64?
    /// `bots`: every message of this run must say `"sender_kind":"bot"`. Set before connecting.
    var expectsBotSenders = false

    /// `SOCIAL_LOADTEST_DEBUG=1` prints every frame received to stderr.
    static let debug = ProcessInfo.processInfo.environment["SOCIAL_LOADTEST_DEBUG"] == "1"

    init(index: Int, user: String, loop: WebSocketClientLoop, request: ClientRequest, metrics: Metrics,
         runTag: String, textBytes: Int) {
        self.index = index
        self.user = user
        self.loop = loop
        self.request = request
        self.metrics = metrics
        self.runTag = runTag
        self.textBytes = textBytes
    }

    // MARK: scheduler thread

    /// Starts connecting; with `sync`, the client catches up once open.
    func connect(sync: Bool = false) {
        lock.lock()
        state = .connecting
        connectStartNs = nowNs()
        closeIntended = false
        syncOnOpen = sync
        if sync { resyncStartNs = connectStartNs }
        resyncedAtNs = nil
        connection = loop.connect(request, delegate: self)
        lock.unlock()
    }

    /// Goes offline on purpose (churn, storm): not counted as an unexpected close.
    func disconnect() {
        lock.lock()
        closeIntended = true
        state = .closing
        let c = connection
        lock.unlock()
        c?.close(code: 1000)
    }

    var isOpen: Bool { lock.lock(); defer { lock.unlock() }; return state == .open }
    var isConnecting: Bool { lock.lock(); defer { lock.unlock() }; return state == .connecting }
    var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return state == .closed || state == .idle }
    var inflightCount: Int { lock.lock(); defer { lock.unlock() }; return inflight.count }
    var isSyncing: Bool { lock.lock(); defer { lock.unlock() }; return syncing || syncOnOpen }

    func track(_ chat: String) { lock.lock(); if chats[chat] == nil { chats[chat] = ChatTrack(chatId: chat) }; lock.unlock() }

    func highest(in chat: String) -> Int64 { lock.lock(); defer { lock.unlock() }; return chats[chat]?.highest ?? 0 }

    func beginMeasuring(_ chat: String, at seq: Int64) { lock.lock(); chats[chat]?.begin(at: seq); lock.unlock() }

    /// Sends a command; `reply` runs on the loop thread with the answer.
    func call(_ op: String, args: String, reply: @escaping (Incoming) -> Void) {
        lock.lock()
        let id = nextId
        nextId += 1
        calls[id] = reply
        let c = connection
        lock.unlock()
        c?.send("{\"id\":\(id),\"op\":\"\(op)\",\"args\":\(args)}")
    }

    /// Sends one `chat.send` of this run to `chat`; false when the client cannot send now.
    @discardableResult
    func sendMessage(to chat: String) -> Bool {
        lock.lock()
        guard state == .open, !syncing, !syncOnOpen, let c = connection else { lock.unlock(); return false }
        counter += 1
        let id = nextId
        nextId += 1
        let key = messageKey(sender: index, counter: counter)
        let sentNs = nowNs()
        inflight[id] = (sentNs, chat)
        lock.unlock()
        metrics.record(sentNs) { t, s in t.sent += 1; s.sent += 1 }
        let text = BenchText.make(sentNs: sentNs, key: key, size: textBytes)
        c.send("{\"id\":\(id),\"op\":\"chat.send\",\"args\":{\"chat_id\":\"\(chat)\",\"client_msg_id\":\"\(runTag)-\(key)\",\"text\":\"\(text)\"}}")
        return true
    }

    /// Sends still unanswered are counted as such and forgotten (end of run).
    func abandonInflight() -> Int {
        lock.lock(); defer { lock.unlock() }
        let n = inflight.count
        inflight.removeAll()
        return n
    }

    func chatSnapshot() -> [ChatTrack] { lock.lock(); defer { lock.unlock() }; return Array(chats.values) }

    // MARK: sync (under lock)

    private func startSync() {
        syncing = true
        metrics.record { t, _ in t.syncs += 1 }
        let positions = chats.values.map { "{\"chat_id\":\"\($0.chatId)\",\"seq\":\($0.position)}" }
        let id = nextId
        nextId += 1
        calls[id] = { [weak self] reply in self?.syncReplied(reply) }
        connection?.send("{\"id\":\(id),\"op\":\"sync\",\"args\":{\"chats\":[\(positions.joined(separator: ","))],\"limit\":1000}}")
    }

    /// Loop thread, without the lock.
    private func syncReplied(_ reply: Incoming) {
        lock.lock()
        guard let ok = reply.ok else {
            // A temporary error (overloaded, unavailable): ask again.
            metrics.record { t, s in t.errors["sync: \(reply.error?.code ?? "no reply")", default: 0] += 1; s.errors += 1 }
            if state == .open { startSync() }
            lock.unlock()
            return
        }
        for delta in ok.chats ?? [] where chats[delta.chat.chatId] != nil {
            let changes = delta.changes.map { (updatedSeq: $0.updatedSeq, ours: BenchText.parse($0.text) != nil) }
            chats[delta.chat.chatId]!.synced(changes: changes, position: delta.position)
        }
        if ok.more == true {
            startSync()
            lock.unlock()
            return
        }
        syncing = false
        let now = nowNs()
        let replay = buffered
        buffered.removeAll()
        for event in replay { liveEvent(chat: event.chat, seq: event.seq, bench: event.bench, at: now) }
        resyncedAtNs = now
        let since = resyncStartNs
        lock.unlock()
        metrics.record(now) { t, _ in
            t.resyncedClients += 1
            if since > 0 { t.resync.record(nanoseconds: now &- since) }
        }
    }

    // MARK: frames (loop thread, under lock)

    private func liveEvent(chat: String, seq: Int64, bench: (sentNs: UInt64, key: UInt64)?, at now: UInt64) {
        guard chats[chat] != nil else { return }
        if syncing {
            buffered.append((chat, seq, bench))
            return
        }
        let outcome = chats[chat]!.live(seq, ours: bench != nil)
        guard outcome != .ignored, chats[chat]!.measuring, let bench else { return }
        let fromOther = Int(bench.key >> 32) != index
        metrics.record(now) { t, s in
            s.delivered += 1
            if fromOther {
                t.delivery.record(nanoseconds: now &- bench.sentNs)
                s.delivery.record(nanoseconds: now &- bench.sentNs)
            }
        }
    }

    private static let botSenderKind = Array("\"sender_kind\":\"bot\"".utf8)

    private static func contains(_ line: UnsafeRawBufferPointer, _ pattern: [UInt8]) -> Bool {
        guard line.count >= pattern.count else { return false }
        for start in 0...(line.count - pattern.count) where line[start] == pattern[0] {
            if pattern.indices.allSatisfy({ line[start + $0] == pattern[$0] }) { return true }
        }
        return false
    }

    private func wrongSenderKind(at now: UInt64) {
        metrics.record(now) { t, s in t.wrongSenderKind += 1; s.errors += 1 }
    }

    private func acknowledged(id: Int, seq: Int64, duplicate: Bool, at now: UInt64) -> Bool {
        guard let sent = inflight.removeValue(forKey: id) else { return false }
        if !duplicate { chats[sent.chat]?.acked += 1 }
        metrics.record(now) { t, s in
            if duplicate { t.duplicateAcks += 1; return }
            t.acked += 1
            s.acked += 1
            t.ack.record(nanoseconds: now &- sent.sentNs)
            s.ack.record(nanoseconds: now &- sent.sentNs)
        }
        return true
    }

    /// One server message; returns a setup callback to run once the lock is released.
    private func handle(_ line: UnsafeRawBufferPointer, at now: UInt64) -> (() -> Void)? {
        switch FastScan.scan(line) {
        case .sendOk(let id, let seq, let duplicate):
            if acknowledged(id: id, seq: seq, duplicate: duplicate, at: now) { return nil }
        case .newMessage(let chat, let seq, let bench):
            if expectsBotSenders, bench != nil, !Self.contains(line, Self.botSenderKind) { wrongSenderKind(at: now) }
            liveEvent(chat: chat, seq: seq, bench: bench, at: now)
            return nil
        case nil:
            break
        }
        guard let message = try? decoder.decode(Incoming.self, from: Data(line)) else {
            metrics.record(now) { t, s in t.errors["unreadable frame", default: 0] += 1; s.errors += 1 }
            return nil
        }
        if let id = message.id {
            if let callback = calls.removeValue(forKey: id) { return { callback(message) } }
            if let stored = message.ok?.message {
                _ = acknowledged(id: id, seq: stored.seq, duplicate: message.ok?.duplicate == true, at: now)
            } else if inflight.removeValue(forKey: id) != nil {
                let code = message.error?.code ?? "unreadable reply"
                metrics.record(now) { t, s in t.errors[code, default: 0] += 1; s.errors += 1 }
            }
            return nil
        }
        if let m = message.data?.message {
            let bench = BenchText.parse(m.text)
            if expectsBotSenders, bench != nil, m.senderKind != "bot" { wrongSenderKind(at: now) }
            liveEvent(chat: m.chatId, seq: m.updatedSeq, bench: bench, at: now)
        } else if message.event == "resync", state == .open, !syncing {
            startSync()
        }
        return nil
    }

    // MARK: ClientDelegate (loop thread)

    func clientOpened(_ connection: ClientConnection) {
        let now = nowNs()
        lock.lock()
        // A connection asked to close before it opened closes as soon as it opens.
        guard connection === self.connection, state == .connecting else { lock.unlock(); return }
        state = .open
        let started = connectStartNs
        if syncOnOpen {
            syncOnOpen = false
            startSync()
        }
        lock.unlock()
        metrics.record(now) { t, _ in t.connected += 1; t.connect.record(nanoseconds: now &- started) }
    }

    func client(_ connection: ClientConnection, received frame: [UInt8]) {
        let now = nowNs()
        var callbacks: [() -> Void] = []
        if Self.debug { FileHandle.standardError.write(Data("\(user) <- ".utf8) + Data(frame) + Data("\n".utf8)) }
        lock.lock()
        // A frame may hold several messages, one a line (protocol/README.md, "batches allowed").
        frame.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                if end > start, let callback = handle(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), at: now) {
                    callbacks.append(callback)
                }
                start = end + 1
            }
        }
        lock.unlock()
        for callback in callbacks { callback() }
    }

    func clientClosed(_ connection: ClientConnection, code: UInt16?, reason: String) {
        ended(connection, failure: nil, code: code)
    }

    func clientFailed(_ connection: ClientConnection, error: String, httpStatus: Int?) {
        ended(connection, failure: httpStatus.map { "HTTP \($0)" } ?? error, code: nil)
    }

    private func ended(_ connection: ClientConnection, failure: String?, code: UInt16?) {
        let now = nowNs()
        lock.lock()
        guard connection === self.connection else { lock.unlock(); return }
        let intended = closeIntended
        let wasOpen = state == .open || state == .closing
        state = .closed
        // Replies to commands of a closed connection never come.
        let lostSends = inflight.count
        inflight.removeAll()
        calls.removeAll()
        syncing = false
        buffered.removeAll()
        lock.unlock()
        metrics.record(now) { t, _ in
            t.unanswered += lostSends
            if let failure, !wasOpen {
                t.connectFailures += 1
                t.connectFailureReasons[failure, default: 0] += 1
            } else if !intended {
                t.unexpectedCloses[code.map(String.init) ?? "none", default: 0] += 1
            }
        }
    }
}
