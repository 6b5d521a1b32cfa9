extension ContinuousClock.Instant {
    /// Nanoseconds from this instant to now, for metrics timers.
    var nanosecondsSince: Int64 {
        let elapsed = ContinuousClock.now - self
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}
