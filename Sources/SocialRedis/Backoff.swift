/// Capped exponential backoff with jitter, for reconnects and retries.
/// Threads: a value owned by one thread.
struct Backoff {
    private let initial: Double
    private let cap: Double
    private var next: Double

    /// From clamped timings: `initialSeconds` at least 10 ms, `maxSeconds` at least that.
    init(initialSeconds: Double, maxSeconds: Double) {
        initial = initialSeconds
        cap = maxSeconds
        next = initial
    }

    /// The next wait, in seconds: between half and all of the current step.
    mutating func delay() -> Double {
        let step = next
        next = min(cap, next * 2)
        return step * Double.random(in: 0.5...1)
    }

    /// A connection succeeded: start again from the first step.
    mutating func reset() { next = initial }
}
