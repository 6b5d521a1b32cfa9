internal import CSQLite
import SocialCore

/// Owns one prepared `sqlite3_stmt*`, finalized in `deinit`.
///
/// Threads: belongs to its connection's cache, so to that connection's thread.
/// Its owning `SQLiteConnection` outlives it (the connection's `deinit`
/// drops the cache before closing).
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let sql: String
    /// The connection's handle, for error messages; valid while the connection lives.
    private let db: OpaquePointer

    private init(handle: OpaquePointer, sql: String, db: OpaquePointer) {
        self.handle = handle
        self.sql = sql
        self.db = db
    }

    deinit { sqlite3_finalize(handle) }

    static func prepare(_ sql: String, on connection: SQLiteConnection) throws -> SQLiteStatement {
        try connection.withHandle { db in
            var raw: OpaquePointer?
            let code = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
            guard code == SQLITE_OK, let raw else {
                sqlite3_finalize(raw)
                throw connection.error(code, "prepare \(sql)")
            }
            return SQLiteStatement(handle: raw, sql: sql, db: db)
        }
    }

    /// Binds `values` to parameters 1, 2, ... (nil binds NULL). A parameter
    /// pack, not a variadic array of existentials: binding allocates nothing
    /// and calls each value's `bind` directly (it showed in the writer's profile).
    @discardableResult
    func bind<each Value: SQLiteBindable>(_ values: repeat each Value) throws -> SQLiteStatement {
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            let code = value.bind(to: handle, at: index)
            guard code == SQLITE_OK else { throw failure(code) }
        }
        return self
    }

    /// Advances to the next row: true when there is one, false when done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try step() {}
    }

    /// Calls `row` for each row; collects the results.
    func rows<T>(_ row: (SQLiteStatement) throws -> T) throws -> [T] {
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        return result
    }

    /// The first row, if any.
    func first<T>(_ row: (SQLiteStatement) throws -> T) throws -> T? {
        try step() ? try row(self) : nil
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns of the current row (0-based)

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(handle, column) != 0 }

    func string(_ column: Int32) -> String { optionalString(column) ?? "" }

    func optionalString(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    private func failure(_ code: Int32) -> StoreError {
        SQLiteFailure(code: code, message: String(cString: sqlite3_errmsg(db)), context: sql).storeError
    }
}

/// A Swift value SQLite can bind as a parameter.
protocol SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// SQLite copies the bytes before `bind` returns (the C macro is not importable).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension String: SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withCString { sqlite3_bind_text(statement, index, $0, Int32(utf8.count), transient) }
    }
}

extension Int64: SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self) }
}

extension Int: SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, Int64(self)) }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        self?.bind(to: statement, at: index) ?? sqlite3_bind_null(statement, index)
    }
}

extension Bool: SQLiteBindable {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self ? 1 : 0) }
}
