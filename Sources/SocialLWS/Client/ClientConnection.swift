import Foundation

/// One client WebSocket. `send` and `close` may be called from any thread;
/// the loop's service thread does the I/O. Fields marked "loop thread" are
/// touched only there, and `outbox` is guarded by `lock`, which is why this
/// class is `@unchecked Sendable`.
public final class ClientConnection: @unchecked Sendable {
    public let id: UInt64
    let request: ClientRequest
    weak var delegate: (any ClientDelegate)?
    unowned let loop: WebSocketClientLoop

    private let lock = NSLock()
    private var outbox: [[UInt8]] = []
    private var closeRequested: UInt16?

    // Loop thread only.
    var wsi: OpaquePointer?
    var rx: [UInt8] = []
    var peerCloseCode: UInt16?
    var peerCloseReason = ""
    var finished = false
    var opened = false
    /// lws's polite close was started: it sends the close frame itself.
    var closeStarted = false

    init(id: UInt64, request: ClientRequest, delegate: any ClientDelegate, loop: WebSocketClientLoop) {
        self.id = id
        self.request = request
        self.delegate = delegate
        self.loop = loop
    }

    /// Queues a text frame. Any thread.
    public func send(_ frame: [UInt8]) {
        lock.lock()
        outbox.append(frame)
        lock.unlock()
        loop.post(.writable(self))
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    /// Closes with `code` after the frames already queued. Any thread.
    public func close(code: UInt16 = 1000) {
        lock.lock()
        closeRequested = code
        lock.unlock()
        loop.post(.writable(self))
    }

    /// Takes what is queued to write, and the close code if a close was asked for.
    func takeOutbox() -> (frames: [[UInt8]], close: UInt16?) {
        lock.lock()
        defer { lock.unlock() }
        let frames = outbox
        outbox.removeAll()
        return (frames, closeRequested)
    }

    func putBack(_ frames: ArraySlice<[UInt8]>) {
        guard !frames.isEmpty else { return }
        lock.lock()
        outbox.insert(contentsOf: frames, at: 0)
        lock.unlock()
    }
}
