/// The node's drain (`GatewayServer.beginDrain`): which sessions close when,
/// and when the loop may stop. A value the service thread owns; it holds
/// session ids only and asks the caller whether a session may close
/// (`SessionMachine.mayCloseForDrain`), so it is tested without sockets.
///
/// A loop turn looks only at the sessions it answered or wrote to (`touched`),
/// the tick at every session, so closing 19,000 sessions does not rescan them
/// all each turn. At most `maxClosing` sessions close at once; the others
/// are held, oldest first, and close as the first ones finish, or after
/// `holdMaxMs` whatever the count (a peer that never answers the close frame
/// holds its place for lws's 5 s). lws keeps each closing socket's timeout in
/// one list sorted by expiry and inserts by walking it, so closing 19,000
/// sessions at once made each close walk all the others three times: 15.7 s
/// of CPU before the process could exit (BENCHMARKS.md, "Drain").
struct Drain {
    private(set) var isDraining = false
    /// When every session closes, ready or not.
    private(set) var deadlineMs: Int64 = 0
    /// The most sessions closing at once (`ServerSettings.drainMaxClosing`, at least 1).
    let maxClosing: Int
    /// The longest a session ready to close is held for want of room.
    let holdMaxMs: Int64
    /// Past the deadline by this much, the loop stops even with sessions or API calls left.
    static let stopGraceMs: Int64 = 5000

    /// Sessions answered or written to in this loop turn.
    private var touchedThisTurn: [UInt64] = []
    /// Sessions ready to close but held back, in the order they were first held.
    private var held: [(id: UInt64, sinceMs: Int64)] = []
    /// A session closed while some were held: the turn's end closes more.
    private var roomFreed = false

    init(maxClosing: Int, holdMaxMs: Int64) {
        self.maxClosing = max(1, maxClosing)
        self.holdMaxMs = holdMaxMs
    }

    /// Starts the drain; false when it had started already.
    mutating func start(now: Int64, timeoutMs: Int64) -> Bool {
        guard !isDraining else { return false }
        isDraining = true
        deadlineMs = now + timeoutMs
        return true
    }

    func isPastDeadline(now: Int64) -> Bool { now > deadlineMs }

    /// Whether the loop may stop: nothing is left (`nothingLeft`: no session,
    /// no API call under way), or the grace after the deadline is over.
    func mayStop(now: Int64, nothingLeft: Bool) -> Bool {
        isDraining && (nothingLeft || now > deadlineMs + Self.stopGraceMs)
    }

    /// A session was answered or written to: the turn's end looks at it.
    mutating func touched(_ id: UInt64) {
        if isDraining { touchedThisTurn.append(id) }
    }

    /// A session finished closing: if some are held, the turn's end closes more.
    mutating func closed() {
        if isDraining, !held.isEmpty { roomFreed = true }
    }

    /// The sessions the turn's end looks at, or nil when there is nothing
    /// to do (nothing touched, no room freed for the held ones).
    mutating func takeTurn() -> [UInt64]? {
        guard !touchedThisTurn.isEmpty || roomFreed else { return nil }
        defer {
            touchedThisTurn.removeAll(keepingCapacity: true)
            roomFreed = false
        }
        return touchedThisTurn
    }

    /// The sessions to close now, from the held ones (first) and
    /// `candidates`: each that `mayClose` accepts, while fewer than
    /// `maxClosing` are closing (`closing` already are), and any held for
    /// `holdMaxMs`. Those that may close but find no room are held.
    mutating func choose(_ candidates: some Sequence<UInt64>, closing: Int, now: Int64,
                         mayClose: (UInt64) -> Bool) -> [UInt64] {
        var room = maxClosing - closing
        let wasHeld = held
        held.removeAll(keepingCapacity: true)
        var taken = Set<UInt64>()  // chosen or held again: a held session may be among the candidates too
        var chosen: [UInt64] = []
        func consider(_ id: UInt64, heldSince: Int64?) {
            guard !taken.contains(id), mayClose(id) else { return }
            taken.insert(id)
            let since = heldSince ?? now
            if room > 0 || now - since >= holdMaxMs {
                chosen.append(id)
                room -= 1
            } else {
                held.append((id, since))
            }
        }
        for entry in wasHeld { consider(entry.id, heldSince: entry.sinceMs) }
        for id in candidates { consider(id, heldSince: nil) }
        return chosen
    }

    /// How many sessions are held (tests, logs).
    var heldCount: Int { held.count }
}
