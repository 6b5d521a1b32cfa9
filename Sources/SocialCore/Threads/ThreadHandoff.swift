/// Moves a value that is not `Sendable` (a C connection, a worker's body, a
/// closure over state) to the thread that will own it: that thread takes it
/// out first thing, so no other reference remains.
///
/// `@unchecked Sendable`: the box is written once before the thread starts
/// (starting the thread orders the write before the thread's read), and
/// `take` is called once, by that thread only, which then owns the value
/// alone.
public final class ThreadHandoff<Value>: @unchecked Sendable {
    private var value: Value?

    public init(_ value: Value) { self.value = value }

    /// The value; the box keeps no reference. Call once, on the owning thread.
    public func take() -> Value {
        defer { value = nil }
        return value!
    }
}
