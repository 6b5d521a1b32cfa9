import Foundation
import SocialLWS
import SocialProtocol

/// A blocking WebSocket client for tests and the CLI, on the project's
/// libwebsockets client. Frames arrive on the loop thread and wait in a
/// buffer; test code takes them with timeouts. `cond` guards every field
/// below it, which is why this class is `@unchecked Sendable`.
public final class TestClient: ClientDelegate, @unchecked Sendable {
    public struct ConnectError: Error, CustomStringConvertible {
        public let message: String
        public let httpStatus: Int?
        public var description: String { "connect failed (\(httpStatus.map(String.init) ?? "no status")): \(message)" }
    }

    public struct Closed: Equatable, Sendable {
        public let code: UInt16?
        public let reason: String
    }

    private let cond = NSCondition()
    /// Received messages (a batched frame is split), oldest first.
    private var frames: [[UInt8]] = []
    private var opened = false
    private var failure: ConnectError?
    private var closedInfo: Closed?
    private var nextId = 1
    private var connection: ClientConnection?

    /// Connects and waits for the upgrade; throws `ConnectError` with the HTTP status when refused.
    public static func connect(_ loop: WebSocketClientLoop, _ request: ClientRequest, timeout: Double = 10) throws -> TestClient {
        let client = TestClient()
        let connection = loop.connect(request, delegate: client)
        client.cond.lock()
        client.connection = connection
        let deadline = Date().addingTimeInterval(timeout)
        while !client.opened && client.failure == nil && client.closedInfo == nil {
            if !client.cond.wait(until: deadline) { break }
        }
        let failure = client.failure, opened = client.opened
        client.cond.unlock()
        if let failure { throw failure }
        guard opened else { throw ConnectError(message: "timed out or closed during handshake", httpStatus: nil) }
        return client
    }

    /// Connects to a local gateway as `token`'s user.
    public static func connect(_ loop: WebSocketClientLoop, port: Int, token: String?, query: String = "",
                               headers: [(String, String)] = [], tls: Bool = false, timeout: Double = 10) throws -> TestClient {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        let request = ClientRequest(port: port, path: "/ws" + query, tls: tls, allowInsecureTLS: tls, headers: all)
        return try connect(loop, request, timeout: timeout)
    }

    // MARK: ClientDelegate (loop thread)

    public func clientOpened(_ connection: ClientConnection) {
        cond.lock(); opened = true; cond.signal(); cond.unlock()
    }

    /// Buffers each message of the frame on its own: a frame may hold several (`FrameBatch`).
    public func client(_ connection: ClientConnection, received frame: [UInt8]) {
        let messages = FrameBatch.messages(in: frame)
        cond.lock(); for message in messages { frames.append(Array(message)) }; cond.signal(); cond.unlock()
    }

    public func clientClosed(_ connection: ClientConnection, code: UInt16?, reason: String) {
        cond.lock(); closedInfo = Closed(code: code, reason: reason); cond.broadcast(); cond.unlock()
    }

    public func clientFailed(_ connection: ClientConnection, error: String, httpStatus: Int?) {
        cond.lock(); failure = ConnectError(message: error, httpStatus: httpStatus); cond.broadcast(); cond.unlock()
    }

    // MARK: test API (any thread)

    public func send(_ text: String) { connection?.send(text) }
    public func send(_ bytes: [UInt8]) { connection?.send(bytes) }
    public func close(code: UInt16 = 1000) { connection?.close(code: code) }

    /// Takes the first buffered frame matching `predicate`, waiting up to `timeout`.
    public func next(timeout: Double = 10, where predicate: ([String: Any]) -> Bool = { _ in true }) -> [String: Any]? {
        nextRaw(timeout: timeout) { frame in
            (try? JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any]).map(predicate) ?? false
        }.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    public func nextRaw(timeout: Double = 10, where predicate: ([UInt8]) -> Bool) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let index = frames.firstIndex(where: predicate) { return frames.remove(at: index) }
            if closedInfo != nil { return nil }
            if !cond.wait(until: deadline) { return nil }
        }
    }

    /// The next push named `event`.
    public func event(_ name: String, timeout: Double = 10, where predicate: ([String: Any]) -> Bool = { _ in true }) -> [String: Any]? {
        next(timeout: timeout) { ($0["event"] as? String) == name && predicate(($0["data"] as? [String: Any]) ?? [:]) }
            .flatMap { $0["data"] as? [String: Any] }
    }

    /// Pushes named `event` buffered now, without waiting.
    public func drainEvents(_ name: String) -> [[String: Any]] {
        var out: [[String: Any]] = []
        while let e = event(name, timeout: 0) { out.append(e) }
        return out
    }

    /// Every message buffered now, in arrival order (replies and pushes), without waiting.
    public func drainAll() -> [[String: Any]] {
        cond.lock()
        let taken = frames
        frames = []
        cond.unlock()
        return taken.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    /// Sends a command and waits for its reply (the whole reply frame).
    public func command(_ op: String, _ args: [String: Any] = [:], timeout: Double = 10) -> [String: Any]? {
        cond.lock()
        let id = nextId
        nextId += 1
        cond.unlock()
        let frame: [String: Any] = ["id": id, "op": op, "args": args]
        guard let data = try? JSONSerialization.data(withJSONObject: frame) else { return nil }
        send(Array(data))
        return next(timeout: timeout) { ($0["id"] as? Int) == id && $0["event"] == nil }
    }

    /// Sends a command and returns its `ok` object, or nil (the error is in `lastError`).
    public func ok(_ op: String, _ args: [String: Any] = [:], timeout: Double = 10) -> [String: Any]? {
        command(op, args, timeout: timeout)?["ok"] as? [String: Any]
    }

    /// Waits for the connection to close; nil if it is still open at the timeout.
    public func waitClosed(timeout: Double = 10) -> Closed? {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while closedInfo == nil {
            if !cond.wait(until: deadline) { break }
        }
        return closedInfo
    }

    public var isClosed: Bool {
        cond.lock(); defer { cond.unlock() }
        return closedInfo != nil
    }
}
