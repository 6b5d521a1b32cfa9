import SocialProtocol

/// Makes trace and span ids: xoshiro256** seeded from the system's generator.
///
/// A span per command would cost a `getrandom(2)` system call per id with
/// `SystemRandomNumberGenerator`; this generator costs a few nanoseconds. Ids
/// need to be unique and unguessable enough not to collide across nodes, not
/// secret: each generator is seeded with 256 random bits of its own.
///
/// A value for one thread (the transport's service thread keeps one); code
/// without a thread of its own calls `TraceContext.root()` / `child()`, which
/// use the system generator.
public struct TraceIDGenerator: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    /// Seeded from `SystemRandomNumberGenerator`.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: (system.next(), system.next(), system.next(), system.next()))
    }

    /// A fixed seed, for tests. An all-zero seed is replaced (xoshiro would stay at zero).
    public init(seed: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = seed
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension TraceContext {
    /// The first span of a new trace, sampled (see README, "Traces": the
    /// services behind the gateway record what it starts).
    public static func root(using generator: inout some RandomNumberGenerator) -> TraceContext {
        var high: UInt64 = 0
        var low: UInt64 = 0
        while high | low == 0 { (high, low) = (generator.next(), generator.next()) }
        return TraceContext(traceId: TraceID(high: high, low: low), spanId: .random(using: &generator),
                            flags: TraceContext.sampled)
    }

    /// A new span of the same trace whose parent is this one (the next hop's span).
    public func child(using generator: inout some RandomNumberGenerator) -> TraceContext {
        TraceContext(traceId: traceId, spanId: .random(using: &generator), flags: flags)
    }

    /// The span of a hop that received `parent` (a child of it), or the root
    /// of a new trace when there was none.
    public static func span(continuing parent: TraceContext?,
                            using generator: inout some RandomNumberGenerator) -> TraceContext {
        parent?.child(using: &generator) ?? root(using: &generator)
    }

    /// `span(continuing:using:)` with the system's generator, for code that
    /// owns no generator (a backend API request, a webhook call with no request).
    public static func span(continuing parent: TraceContext?) -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return span(continuing: parent, using: &generator)
    }
}

extension SpanID {
    /// A random span id, never zero.
    public static func random(using generator: inout some RandomNumberGenerator) -> SpanID {
        var value: UInt64 = 0
        while value == 0 { value = generator.next() }
        return SpanID(value)
    }
}
