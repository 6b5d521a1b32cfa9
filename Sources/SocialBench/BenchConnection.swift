import Foundation
import SocialLWS
import SocialTesting

/// One benchmark connection: it sends `chat.send` commands (a sender) or only
/// listens (a receiver), and counts what it sees. The client loop's service
/// thread calls the `ClientDelegate` methods; the runner's thread starts
/// phases, makes setup calls and reads the counts. `cond` guards every `var`,
/// which is why this class is `@unchecked Sendable`.
final class BenchConnection: ClientDelegate, @unchecked Sendable {
    enum Role: Equatable {
        case sender(Int)
        case receiver
    }

    /// An ok reply to a `chat.send`.
    struct Ack {
        let seq: Int64
        let key: UInt64
        let phase: Int
    }

    struct Delivery {
        let key: UInt64
        let phase: Int
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let role: Role
    let user: String
    /// Prefix of this run's client_msg_ids.
    private let runTag: String
    private let textBytes: Int
    private let decoder = JSONDecoder()  // loop thread only
    private let cond = NSCondition()

    private var connection: ClientConnection?
    private var opened = false
    private var failure: String?
    private var closed: String?
    private var nextId = 1
    /// Setup calls waiting for their reply; `.some(nil)` until it comes.
    private var waiting: [Int: Incoming?] = [:]
    private var chatId = ""
    /// The highest `updated_seq` of any chat event received.
    private var position: Int64 = 0

    // Verification (from `beginMeasuring` on).
    private var measuring = false
    private var lastSeq: Int64 = 0
    private var delivered: [Int64: Delivery] = [:]

    // Sending.
    private var sending = false
    private var window = 0
    private var limit: Int?
    private var sentInPhase = 0
    private var counter = 0
    private var inflight: [Int: (sentNs: UInt64, key: UInt64)] = [:]
    private var acks: [Ack] = []

    private var phase = 0
    private var tallies = [PhaseTally()]

    init(role: Role, user: String, runTag: String, textBytes: Int) {
        self.role = role
        self.user = user
        self.runTag = runTag
        self.textBytes = textBytes
    }

    // MARK: runner thread

    func open(on loop: WebSocketClientLoop, _ request: ClientRequest) {
        let connection = loop.connect(request, delegate: self)
        cond.lock(); self.connection = connection; cond.unlock()
    }

    func waitOpen(until deadline: Date) throws {
        cond.lock()
        defer { cond.unlock() }
        while !opened && failure == nil && closed == nil {
            if !cond.wait(until: deadline) { break }
        }
        if let failure { throw Failure(description: "\(user): cannot connect: \(failure)") }
        guard opened, closed == nil else { throw Failure(description: "\(user): connection did not open in time") }
    }

    /// Sends a command and waits for its reply (setup only).
    func call(_ op: String, args: String, timeout: Double = 30) throws -> Incoming {
        cond.lock()
        defer { cond.unlock() }
        let id = nextId
        nextId += 1
        waiting[id] = .some(nil)
        connection?.send("{\"id\":\(id),\"op\":\"\(op)\",\"args\":\(args)}")
        let deadline = Date().addingTimeInterval(timeout)
        while case .some(.none) = waiting[id], closed == nil {
            if !cond.wait(until: deadline) { break }
        }
        guard case .some(.some(let reply)) = waiting.removeValue(forKey: id) else {
            throw Failure(description: "\(user): no reply to \(op) (\(closed ?? "timed out"))")
        }
        if let error = reply.error { throw Failure(description: "\(user): \(op) failed: \(error.code): \(error.message)") }
        return reply
    }

    /// Waits until a chat event at `seq` or later arrived: this connection is subscribed and caught up.
    func waitPosition(_ seq: Int64, until deadline: Date) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        while position < seq && closed == nil {
            if !cond.wait(until: deadline) { break }
        }
        return position >= seq
    }

    /// From now on, `message.new` events of `chat` are checked; the chat is at `seq`.
    func beginMeasuring(chat: String, at seq: Int64) {
        cond.lock(); chatId = chat; lastSeq = seq; measuring = true; cond.unlock()
    }

    /// Starts phase `index`: a sender keeps `window` sends in flight, `limit` sends at most.
    func startPhase(_ index: Int, window: Int, limit: Int?) {
        cond.lock()
        defer { cond.unlock() }
        phase = index
        while tallies.count <= index { tallies.append(PhaseTally()) }
        guard case .sender = role else { return }
        self.window = window
        self.limit = limit
        sentInPhase = 0
        sending = true
        sendMore()
    }

    func stopSending() { cond.lock(); sending = false; cond.unlock() }

    /// True when this connection sends nothing more in this phase and has no reply pending.
    var isQuiet: Bool {
        cond.lock(); defer { cond.unlock() }
        let exhausted = !sending || limit.map { sentInPhase >= $0 } ?? false
        return exhausted && inflight.isEmpty
    }

    /// The phase's counts so far.
    func tally(_ index: Int) -> PhaseTally {
        cond.lock(); defer { cond.unlock() }
        return index < tallies.count ? tallies[index] : PhaseTally()
    }

    /// Ends the phase: sends still unanswered are counted and forgotten.
    func finishPhase() -> PhaseTally {
        cond.lock(); defer { cond.unlock() }
        sending = false
        tallies[phase].unanswered += inflight.count
        inflight.removeAll()
        return tallies[phase]
    }

    /// Acks and deliveries, for the final check.
    func record() -> (acks: [Ack], delivered: [Int64: Delivery]) {
        cond.lock(); defer { cond.unlock() }
        return (acks, delivered)
    }

    /// Why the connection ended, if it did.
    var closeDescription: String? { cond.lock(); defer { cond.unlock() }; return closed }

    func close() { cond.lock(); let c = connection; cond.unlock(); c?.close(code: 1000) }

    // MARK: under `cond`

    private func sendMore() {
        guard case .sender(let index) = role else { return }
        while sending, inflight.count < window, limit.map({ sentInPhase < $0 }) ?? true {
            counter += 1
            let id = nextId
            nextId += 1
            let key = messageKey(sender: index, counter: counter)
            let sentNs = nowNs()
            let text = BenchText.make(sentNs: sentNs, key: key, size: textBytes)
            inflight[id] = (sentNs, key)
            sentInPhase += 1
            tallies[phase].sent += 1
            connection?.send("{\"id\":\(id),\"op\":\"chat.send\",\"args\":{\"chat_id\":\"\(chatId)\","
                             + "\"client_msg_id\":\"\(runTag)-\(key)\",\"text\":\"\(text)\"}}")
        }
    }

    /// The measurement's frames, read by `FastScan`; false sends the line to `handle`.
    private func handleFast(_ line: UnsafeRawBufferPointer, at now: UInt64) -> Bool {
        switch FastScan.scan(line) {
        case .sendOk(let id, let seq, let duplicate):
            guard let sent = inflight.removeValue(forKey: id) else { return false }
            acknowledged(seq: seq, duplicate: duplicate, sent: sent, at: now)
            sendMore()
        case .newMessage(let chat, let seq, let bench):
            guard measuring, chat == chatId else { return false }
            advancePosition(seq)
            delivered(seq: seq, bench: bench, at: now)
        case nil:
            return false
        }
        return true
    }

    /// Every other message: setup replies, errors, other events.
    private func handle(_ message: Incoming, at now: UInt64) {
        if let id = message.id {
            if case .some = waiting[id] {
                waiting[id] = .some(message)
                cond.broadcast()
            } else if let sent = inflight.removeValue(forKey: id) {
                if let stored = message.ok?.message {
                    acknowledged(seq: stored.seq, duplicate: message.ok?.duplicate == true, sent: sent, at: now)
                    sendMore()
                } else {
                    tallies[phase].errors[message.error?.code ?? "unreadable reply", default: 0] += 1
                    // Refill the window on the next ok reply, not at once: an `overloaded`
                    // reply answered by an immediate resend would spin.
                    if inflight.isEmpty { sendMore() }
                }
            }
            return
        }
        guard let chatMessage = message.data?.message else { return }
        advancePosition(chatMessage.updatedSeq)
        if message.event == "message.new" && measuring && chatMessage.chatId == chatId {
            delivered(seq: chatMessage.seq, bench: BenchText.parse(chatMessage.text), at: now)
        }
    }

    private func advancePosition(_ seq: Int64) {
        guard seq > position else { return }
        position = seq
        cond.broadcast()
    }

    private func acknowledged(seq: Int64, duplicate: Bool, sent: (sentNs: UInt64, key: UInt64), at now: UInt64) {
        if duplicate {
            tallies[phase].duplicateAcks += 1
            return
        }
        tallies[phase].acked += 1
        tallies[phase].ackNs.append(now &- sent.sentNs)
        tallies[phase].lastAckNs = now
        acks.append(Ack(seq: seq, key: sent.key, phase: phase))
    }

    private func delivered(seq: Int64, bench: (sentNs: UInt64, key: UInt64)?, at now: UInt64) {
        guard let (sentNs, key) = bench else {
            tallies[phase].foreign += 1
            return
        }
        guard delivered[seq] == nil else {
            tallies[phase].duplicated += 1
            return
        }
        delivered[seq] = Delivery(key: key, phase: phase)
        tallies[phase].deliveries += 1
        tallies[phase].lastDeliveryNs = now
        if seq <= lastSeq {
            tallies[phase].outOfOrder += 1
            if tallies[phase].disorderExample == nil {
                tallies[phase].disorderExample = "\(user) got seq \(seq) after \(lastSeq) in \(chatId)"
            }
        } else {
            if seq > lastSeq + 1 { tallies[phase].gaps += 1 }
            lastSeq = seq
        }
        if role == .receiver { tallies[phase].deliveryNs.append(now &- sentNs) }
    }

    // MARK: ClientDelegate (loop thread)

    func clientOpened(_ connection: ClientConnection) {
        cond.lock(); opened = true; cond.broadcast(); cond.unlock()
    }

    func client(_ connection: ClientConnection, received frame: [UInt8]) {
        let now = nowNs()
        cond.lock()
        defer { cond.unlock() }
        // A frame may hold several messages, one a line (protocol README, "Servers batch").
        frame.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                if !line.isEmpty && !handleFast(line, at: now) {
                    if let message = try? decoder.decode(Incoming.self, from: Data(line)) {
                        handle(message, at: now)
                    } else {
                        tallies[phase].errors["unreadable frame", default: 0] += 1
                    }
                }
                start = end + 1
            }
        }
    }

    func clientClosed(_ connection: ClientConnection, code: UInt16?, reason: String) {
        cond.lock()
        closed = "closed \(code.map(String.init) ?? "without a close frame") \(reason)"
        cond.broadcast()
        cond.unlock()
    }

    func clientFailed(_ connection: ClientConnection, error: String, httpStatus: Int?) {
        cond.lock()
        failure = httpStatus.map { "HTTP \($0): \(error)" } ?? error
        cond.broadcast()
        cond.unlock()
    }
}
