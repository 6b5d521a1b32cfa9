import Foundation
import SocialLWS

/// A client that follows one chat the way the SDK does, for fault tests: it
/// applies each `message.new` one ahead of its position, calls `sync` on a
/// gap, on a `resync` and after a reconnect; it notices a silent connection
/// (no answer to `ping`) and reconnects to the next node; as a sender it sends
/// numbered messages with client ids, retrying one until it is acknowledged.
///
/// Runs on a thread of its own (`start`); everything it knows is read under
/// `lock`, which is why the `@unchecked Sendable` is sound.
public final class ChatFollower: @unchecked Sendable {
    public let user: String
    public let chat: String
    /// The client ports of the nodes it may use, in order of preference.
    private let ports: [Int]
    private let token: String
    private let loop: WebSocketClientLoop
    private let sends: Bool
    private let lock = NSLock()
    private var client: TestClient
    private var node: Int
    private var position: Int
    private var applied: [Int] = []
    private var acked: [String] = []
    private var resyncs = 0
    private var reconnects: [Int] = []
    private var stopped = false
    private var thread: Thread?
    private var finished = false

    /// Connects to `ports[node]`; `position` is where it starts following `chat`.
    public init(user: String, token: String, chat: String, position: Int, ports: [Int], node: Int,
                sends: Bool, loop: WebSocketClientLoop) throws {
        self.user = user
        self.token = token
        self.chat = chat
        self.position = position
        self.ports = ports
        self.node = node
        self.sends = sends
        self.loop = loop
        client = try Self.connect(loop, port: ports[node], token: token)
    }

    private static func connect(_ loop: WebSocketClientLoop, port: Int, token: String) throws -> TestClient {
        let client = try TestClient.connect(loop, port: port, token: token, timeout: 5)
        guard client.event("hello", timeout: 5) != nil else { throw MinterError("no hello on port \(port)") }
        return client
    }

    // MARK: What the test reads (any thread)

    /// The node it is connected to (an index into the ports).
    public var currentNode: Int { lock.withLock { node } }
    public var currentPosition: Int { lock.withLock { position } }
    /// Seqs applied, in order: each once if nothing went wrong.
    public var appliedSeqs: [Int] { lock.withLock { applied } }
    /// Client ids of the messages it sent that were acknowledged.
    public var acknowledged: [String] { lock.withLock { acked } }
    public var resyncCount: Int { lock.withLock { resyncs } }
    /// The nodes it moved to, in order.
    public var reconnections: [Int] { lock.withLock { reconnects } }

    // MARK: Running

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "follower-\(user)"
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Stops the loop (no more sends) and waits for it.
    public func stop() {
        lock.withLock { stopped = true }
        while !lock.withLock({ finished }) { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// Catches up once more with `sync` (after every sender stopped).
    public func catchUp() {
        handleEvents()
        sync()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func run() {
        var number = 0
        var lastPing = Date()
        while !isStopped {
            handleEvents()
            if sends {
                let id = "\(user)-\(number)"
                let reply = client.command("chat.send", ["chat_id": chat, "text": "lap \(number)", "client_msg_id": id],
                                           timeout: 4)
                if reply?["ok"] != nil {
                    lock.withLock { acked.append(id) }
                    number += 1
                } else if reply == nil {
                    ensureAlive()       // silent: the store is slow, or the node is cut off
                } else {
                    Thread.sleep(forTimeInterval: 0.2)   // a temporary error: retried with the same id
                }
                Thread.sleep(forTimeInterval: 0.15)
            } else {
                Thread.sleep(forTimeInterval: 0.1)
                if Date().timeIntervalSince(lastPing) > 1 {
                    ensureAlive()
                    lastPing = Date()
                }
            }
        }
        handleEvents()
        lock.withLock { finished = true }
    }

    /// Applies what arrived, in order.
    private func handleEvents() {
        while let frame = client.next(timeout: 0, where: { $0["event"] != nil }) {
            let data = frame["data"] as? [String: Any] ?? [:]
            switch frame["event"] as? String {
            case "message.new":
                guard let message = data["message"] as? [String: Any], message["chat_id"] as? String == chat,
                      let seq = message["updated_seq"] as? Int else { continue }
                let current = currentPosition
                if seq == current + 1 {
                    lock.withLock {
                        position = seq
                        applied.append(seq)
                    }
                } else if seq > current + 1 {
                    sync()      // a gap
                }
            case "resync":
                lock.withLock { resyncs += 1 }
                sync()
            default:
                break
            }
        }
    }

    /// Answers `ping` within 2 s, or moves to the next node and catches up there.
    private func ensureAlive() {
        if client.ok("ping", timeout: 2) != nil { return }
        client.close()
        var next = (currentNode + 1) % ports.count
        while !isStopped {
            if let moved = try? Self.connect(loop, port: ports[next], token: token) {
                lock.withLock {
                    client = moved
                    node = next
                    reconnects.append(next)
                }
                sync()
                return
            }
            next = (next + 1) % ports.count
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Catches up from its position with `sync`, page by page.
    private func sync() {
        while true {
            guard let result = client.ok("sync", ["chats": [["chat_id": chat, "seq": currentPosition]], "limit": 500],
                                         timeout: 10) else { return }
            for delta in result["chats"] as? [[String: Any]] ?? [] {
                for change in delta["changes"] as? [[String: Any]] ?? [] {
                    guard let seq = change["updated_seq"] as? Int else { continue }
                    lock.withLock {
                        if seq > position {
                            position = seq
                            applied.append(seq)
                        }
                    }
                }
            }
            if result["more"] as? Bool != true { return }
        }
    }
}
