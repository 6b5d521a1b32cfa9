/// Every socket the server accepted, from lws's `WSI_CREATE` to its
/// `WSI_DESTROY`, and the caps on them, so that the process never runs out of
/// descriptors and a flood of connections that never finish their request
/// cannot lock out the clients that do.
///
/// A socket is *half-open* from its accept until its request head is in
/// (`requestStarted`), and again while an HTTP keep-alive connection waits
/// for its next request (`idle`). A new socket is admitted while fewer than
/// `maxSockets` are open and fewer than `maxHalfOpen` are half-open. Past
/// either cap, the oldest half-open socket is closed to make room for it
/// (`admitEvicting`): a client that sends its request at once (a health
/// probe, a WebSocket upgrade) gets in however many idle sockets a flood
/// holds, and the flood's sockets are the ones that go. With nothing to
/// evict (every socket a session or a request in progress), or
/// `maxEvicting` evictions still under way, the new socket is refused.
///
/// A value type with no I/O, generic over the socket's handle, so it is
/// tested without sockets; the server keeps one on its service thread.
struct SocketBudget<Socket: Hashable> {
    /// Most sockets open at once (sessions, requests, half-open).
    let maxSockets: Int
    /// Most half-open sockets at once.
    let maxHalfOpen: Int
    /// Most evicted sockets not yet destroyed; past it new sockets are refused
    /// (an eviction frees its descriptor only once the loop has closed it).
    let maxEvicting: Int

    enum Admission: Equatable {
        case admit
        /// Admit the new socket and close this half-open one.
        case admitEvicting(Socket)
        case refuse
    }

    /// Sockets created and not yet destroyed.
    private(set) var open = 0
    /// Half-open sockets, by the order in which they became half-open.
    private var halfOpen: [Socket: UInt64] = [:]
    /// `halfOpen` in that order, with stale entries (no longer half-open, or
    /// half-open again later) skipped when met.
    private var order: [(socket: Socket, serial: UInt64)] = []
    private var head = 0
    private var nextSerial: UInt64 = 0
    private var evicting: Set<Socket> = []

    init(maxSockets: Int, maxHalfOpen: Int, maxEvicting: Int = 64) {
        self.maxSockets = max(1, maxSockets)
        self.maxHalfOpen = max(1, maxHalfOpen)
        self.maxEvicting = max(1, maxEvicting)
    }

    /// Half-open sockets now (evicted ones no longer count).
    var halfOpenCount: Int { halfOpen.count }
    /// Evicted sockets not yet destroyed.
    var evictingCount: Int { evicting.count }

    /// Whether `socket` is half-open: its request head is not (yet) in.
    func isHalfOpen(_ socket: Socket) -> Bool { halfOpen[socket] != nil }

    /// A socket was accepted and is about to be created: keep it, keep it and
    /// close the returned half-open one, or refuse it.
    mutating func admit() -> Admission {
        if open - evicting.count < maxSockets && halfOpen.count < maxHalfOpen { return .admit }
        guard evicting.count < maxEvicting, let oldest = popOldestHalfOpen() else { return .refuse }
        evicting.insert(oldest)
        return .admitEvicting(oldest)
    }

    /// An admitted socket exists: it is half-open until its request head is in.
    mutating func created(_ socket: Socket) {
        open += 1
        markHalfOpen(socket)
    }

    /// Its request head is in (an HTTP request, or a WebSocket upgrade).
    mutating func requestStarted(_ socket: Socket) {
        halfOpen[socket] = nil
    }

    /// An HTTP keep-alive connection answered its request and waits for the next.
    mutating func idle(_ socket: Socket) {
        guard !evicting.contains(socket) else { return }
        markHalfOpen(socket)
    }

    /// The socket is gone.
    mutating func destroyed(_ socket: Socket) {
        open = max(0, open - 1)
        halfOpen[socket] = nil
        evicting.remove(socket)
    }

    private mutating func markHalfOpen(_ socket: Socket) {
        nextSerial += 1
        halfOpen[socket] = nextSerial
        order.append((socket, nextSerial))
        compactIfMostlyStale()
    }

    private mutating func popOldestHalfOpen() -> Socket? {
        while head < order.count {
            let entry = order[head]
            head += 1
            if halfOpen[entry.socket] == entry.serial {
                halfOpen[entry.socket] = nil
                return entry.socket
            }
        }
        return nil
    }

    /// Rebuilds `order` from `halfOpen` once most of it is stale, so it stays
    /// in proportion to the half-open sockets however many requests a
    /// keep-alive connection makes.
    private mutating func compactIfMostlyStale() {
        let live = order.count - head
        guard live > 2 * halfOpen.count + 64 else { return }
        order = halfOpen.map { (socket: $0.key, serial: $0.value) }.sorted { $0.serial < $1.serial }
        head = 0
    }
}
