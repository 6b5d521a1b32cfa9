/// How many sessions are in each phase, kept as they move, so that the
/// gauges need no walk over every session. Service thread (a value).
struct SessionPhases: Equatable {
    private(set) var loading = 0
    private(set) var ready = 0
    private(set) var closing = 0

    mutating func add(_ phase: SessionMachine<PendingCommand>.Phase) { self[phase] += 1 }

    mutating func remove(_ phase: SessionMachine<PendingCommand>.Phase) { self[phase] -= 1 }

    mutating func move(from old: SessionMachine<PendingCommand>.Phase, to new: SessionMachine<PendingCommand>.Phase) {
        guard old != new else { return }
        self[old] -= 1
        self[new] += 1
    }

    private subscript(phase: SessionMachine<PendingCommand>.Phase) -> Int {
        get {
            switch phase {
            case .loading: loading
            case .ready: ready
            case .closing: closing
            }
        }
        set {
            switch phase {
            case .loading: loading = newValue
            case .ready: ready = newValue
            case .closing: closing = newValue
            }
        }
    }
}
