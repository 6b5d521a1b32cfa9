/// A token bucket: it holds up to `limit.burst` tokens, gains
/// `limit.perSecond` a second, and each admitted command takes one.
///
/// Pure and clock-injected: every call passes the time (milliseconds on any
/// clock that mostly moves forward). When the clock goes backwards the bucket
/// takes the new time as its reference and adds nothing, so a wall clock
/// stepped back never stalls it.
public struct TokenBucket: Sendable, Equatable {
    public let limit: RateLimit
    /// Tokens in the bucket at `updatedMs`.
    public private(set) var tokens: Double
    private var updatedMs: Int64

    /// A full bucket.
    public init(_ limit: RateLimit, now: Int64) {
        self.limit = limit
        self.tokens = limit.burst
        self.updatedMs = now
    }

    /// Adds the tokens earned since the last call.
    public mutating func refill(now: Int64) {
        tokens = limit.refilled(tokens, elapsedMs: now - updatedMs)
        updatedMs = now
    }

    /// Whether a command may pass (after `refill`).
    public var hasToken: Bool { tokens >= 1 }

    /// Milliseconds until a token is there (0 when one is), at least 1 otherwise.
    public var msUntilToken: Int64 { limit.msUntilToken(tokens) }

    /// Takes a token; call only when `hasToken`.
    public mutating func consume() {
        tokens -= 1
    }

    /// Refills, then takes a token if there is one: nil when admitted, else
    /// the milliseconds to wait.
    public mutating func take(now: Int64) -> Int64? {
        refill(now: now)
        guard hasToken else { return msUntilToken }
        consume()
        return nil
    }
}

extension RateLimit {
    /// A bucket's `tokens` after `elapsedMs` more milliseconds, at most
    /// `burst`. Nothing is added when the time went backwards.
    func refilled(_ tokens: Double, elapsedMs: Int64) -> Double {
        elapsedMs > 0 ? min(burst, tokens + Double(elapsedMs) * perSecond / 1000) : tokens
    }

    /// Milliseconds until a bucket holding `tokens` has one (0 when it has), at least 1 otherwise.
    func msUntilToken(_ tokens: Double) -> Int64 {
        guard tokens < 1 else { return 0 }
        return max(1, Int64(((1 - tokens) * 1000 / perSecond).rounded(.up)))
    }
}
