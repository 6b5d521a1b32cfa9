internal import CSQLite
import SocialCore

/// A failed SQLite call, turned into a `StoreError` at the boundary.
/// Threads: a value; any thread.
struct SQLiteFailure {
    var code: Int32
    var message: String
    var context: String

    /// Constraint violations are conflicts (a duplicate id, a unique pair);
    /// everything else (busy, locked, I/O, full, corrupt, misuse) is reported
    /// as unavailable: the transaction did not change anything.
    var storeError: StoreError {
        let text = "sqlite \(code) (\(String(cString: sqlite3_errstr(code)))): \(message) [\(context)]"
        switch code & 0xFF {
        case SQLITE_CONSTRAINT: return .conflict(text)
        default: return .unavailable(text)
        }
    }
}
