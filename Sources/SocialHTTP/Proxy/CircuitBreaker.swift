/// One upstream's circuit breaker, as a value: the caller supplies the time,
/// so tests drive it with any clock.
///
/// Closed: calls go through; `failureThreshold` consecutive failures open it.
/// Open: calls are refused for `openMs`. Then one trial call goes through
/// (half-open) while the others are still refused: its success closes the
/// breaker, its failure opens it for another `openMs`.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: Int64)
        case halfOpen
    }

    /// What `acquire` decided.
    public enum Decision: Sendable, Equatable {
        /// Go ahead; `trial` when this call decides whether the breaker closes.
        case allowed(trial: Bool)
        /// Refused; a call may be tried again after this many milliseconds.
        case refused(retryAfterMs: Int)
    }

    public private(set) var state: State = .closed(failures: 0)
    public let failureThreshold: Int
    public let openMs: Int64

    public init(failureThreshold: Int, openMs: Int64) {
        self.failureThreshold = max(1, failureThreshold)
        self.openMs = max(0, openMs)
    }

    /// Asks to make a call at `now` (milliseconds, any monotonic origin).
    public mutating func acquire(now: Int64) -> Decision {
        switch state {
        case .closed:
            return .allowed(trial: false)
        case .open(let until) where now >= until:
            state = .halfOpen
            return .allowed(trial: true)
        case .open(let until):
            return .refused(retryAfterMs: Int(until - now))
        case .halfOpen:
            // A trial call is out; its outcome decides. Try again shortly.
            return .refused(retryAfterMs: 1000)
        }
    }

    /// Reports how an allowed call ended: `success` when the upstream answered below 500.
    public mutating func record(success: Bool, trial: Bool, now: Int64) {
        switch (state, success) {
        case (.halfOpen, true) where trial, (.closed, true):
            state = .closed(failures: 0)
        case (.halfOpen, false) where trial:
            state = .open(until: now + openMs)
        case (.closed(let failures), false):
            state = failures + 1 >= failureThreshold ? .open(until: now + openMs) : .closed(failures: failures + 1)
        default:
            // A call that started before the breaker opened: its outcome is old news.
            break
        }
    }
}

extension CircuitBreaker {
    /// The trial call was never sent (the proxy was overloaded): let the next call try.
    public mutating func abandonTrial(now: Int64) {
        if state == .halfOpen { state = .open(until: now) }
    }
}
