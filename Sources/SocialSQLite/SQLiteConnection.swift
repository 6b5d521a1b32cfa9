internal import CSQLite
import SocialCore

/// Owns one `sqlite3*` connection and its cached prepared statements.
///
/// Threads: confined to the one thread that opened it (the store's writer or
/// one of its readers); never shared. It is opened with `SQLITE_OPEN_NOMUTEX`
/// for that reason.
final class SQLiteConnection {
    private let handle: OpaquePointer
    /// Statements of `SQLiteQuery`s, by slot.
    private var queries: [SQLiteStatement?] = []
    /// Ad-hoc statements (cold paths: schema, bots, notifications), by text.
    private var statements: [String: SQLiteStatement] = [:]
    /// What the WAL hook reports to (`reportWALSize`), kept alive as long as the connection.
    private(set) var checkpointer: SQLiteCheckpointer?

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        queries.removeAll()                 // finalizes every statement before the close
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Opens (creating when missing) the database at `path`.
    /// - Parameters:
    ///   - path: the database file.
    ///   - busyTimeoutMs: how long a statement waits for a lock held by another connection.
    static func open(path: String, busyTimeoutMs: Int32) throws -> SQLiteConnection {
        var raw: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &raw, flags, nil)
        guard let raw else { throw StoreError.unavailable("sqlite: cannot allocate a connection to \(path)") }
        // From here the class owns `raw`: a failure below closes it in `deinit`.
        let connection = SQLiteConnection(handle: raw)
        guard code == SQLITE_OK else { throw connection.error(code, "open \(path)") }
        sqlite3_extended_result_codes(raw, 1)
        sqlite3_busy_timeout(raw, busyTimeoutMs)
        return connection
    }

    /// Runs one or more statements without results (pragmas, schema, transactions).
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw SQLiteFailure(code: code, message: message.map { String(cString: $0) } ?? "", context: sql).storeError
        }
    }

    /// Runs `body` with the cached statement of `query` (prepared on first
    /// use), then resets it so it holds no read lock and no bound values.
    /// The statement must not escape `body`.
    func with<T>(_ query: SQLiteQuery, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement: SQLiteStatement
        if query.slot < queries.count, let cached = queries[query.slot] {
            statement = cached
        } else {
            statement = try SQLiteStatement.prepare(query.sql, on: self)
            if query.slot >= queries.count { queries += Array(repeating: nil, count: query.slot + 1 - queries.count) }
            queries[query.slot] = statement
        }
        defer { statement.reset() }
        return try body(statement)
    }

    /// Like `with(_:_:)` for a query, keyed by the SQL text: for statements
    /// off the hot path. The statement must not escape `body`.
    func with<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement: SQLiteStatement
        if let cached = statements[sql] {
            statement = cached
        } else {
            statement = try SQLiteStatement.prepare(sql, on: self)
            statements[sql] = statement
        }
        defer { statement.reset() }
        return try body(statement)
    }

    /// Rows changed by the latest INSERT, UPDATE or DELETE.
    var changedRows: Int { Int(sqlite3_changes(handle)) }

    /// True when no transaction is open (SQLite rolls a transaction back by itself on some errors).
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// Reports the log's size (in frames) to `checkpointer` after each commit
    /// of this connection, which replaces SQLite's automatic checkpoint. The
    /// connection keeps `checkpointer` alive; SQLite finds it through an
    /// unretained pointer. Call before the connection's first write.
    func reportWALSize(to checkpointer: SQLiteCheckpointer) {
        self.checkpointer = checkpointer
        sqlite3_wal_hook(handle, { context, _, _, frames in
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context!).takeUnretainedValue().walGrew(to: frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Copies into the database file every frame of the log that no reader
    /// still needs, without waiting for anyone (SQLite's PASSIVE checkpoint).
    /// Returns the log's size and the frames of it copied so far, or nil
    /// when another connection is checkpointing.
    func checkpointPassive() throws -> (frames: Int32, copied: Int32)? {
        var frames: Int32 = 0, copied: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied)
        if code == SQLITE_BUSY { return nil }
        guard code == SQLITE_OK else { throw error(code, "wal_checkpoint(PASSIVE)") }
        return (frames, copied)
    }

    /// Gives `body` the raw handle. The pointer must not escape `body`.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T { try body(handle) }

    /// The store error for result `code`, with SQLite's message for this connection.
    func error(_ code: Int32, _ context: String) -> StoreError {
        SQLiteFailure(code: code, message: String(cString: sqlite3_errmsg(handle)), context: context).storeError
    }
}
