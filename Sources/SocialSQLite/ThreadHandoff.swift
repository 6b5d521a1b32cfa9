/// Moves a connection to the thread that will own it: the thread takes it
/// out first thing, so no other reference remains.
///
/// `@unchecked Sendable`: a `SQLiteConnection` is not `Sendable` (its handle
/// is used without SQLite's mutex). This box is written once before the
/// thread starts (which orders the write before the thread's read), and
/// `take` is called once, by that thread only, which then owns the
/// connection alone.
final class ThreadHandoff: @unchecked Sendable {
    private var connection: SQLiteConnection?

    init(_ connection: SQLiteConnection) { self.connection = connection }

    /// The connection; the box keeps no reference. Call once, on the owning thread.
    func take() -> SQLiteConnection {
        defer { connection = nil }
        return connection!
    }
}
