/// The token levels of one session's buckets, one per `RateClass`, inline:
/// 48 bytes and no allocation, since a node keeps one per connection. Their
/// limits are the limiter's settings, passed in. All are refilled together
/// from one timestamp, which leaves each where refilling it alone would
/// (refilling adds time × rate, capped at the burst). A class without a limit
/// keeps a level nobody reads.
struct SessionBuckets: Sendable {
    private var tokens: InlineArray<5, Double>
    private var updatedMs: Int64

    /// Full buckets.
    init(now: Int64, limit: (RateClass) -> RateLimit?) {
        tokens = InlineArray(repeating: 0)
        updatedMs = now
        for rateClass in RateClass.allCases {
            tokens[rateClass.slot] = limit(rateClass)?.burst ?? 0
        }
    }

    /// Adds the tokens earned since the last call to every limited class.
    mutating func refill(now: Int64, limit: (RateClass) -> RateLimit?) {
        let elapsed = now - updatedMs
        updatedMs = now
        guard elapsed > 0 else { return }
        for rateClass in RateClass.allCases {
            if let rate = limit(rateClass) { tokens[rateClass.slot] = rate.refilled(tokens[rateClass.slot], elapsedMs: elapsed) }
        }
    }

    /// The tokens in `rateClass`'s bucket (at the last refill).
    subscript(rateClass: RateClass) -> Double {
        get { tokens[rateClass.slot] }
        set { tokens[rateClass.slot] = newValue }
    }
}

extension RateClass {
    /// The class's index in `SessionBuckets`.
    fileprivate var slot: Int {
        switch self {
        case .commands: 0
        case .messages: 1
        case .typing: 2
        case .proxy: 3
        case .ping: 4
        }
    }
}
