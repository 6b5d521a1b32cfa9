import Logging
import Synchronization

/// Whether the store's indexes exist yet. A node may start while the database
/// is away (it starts unready); the indexes are created by the first call that
/// reaches the database, and no call runs before they exist: the unique ones
/// back idempotent sends, direct chats and notification keys.
///
/// Threads: `ensure` on the store's worker threads, concurrently (creating an
/// index that exists is a no-op, so two workers racing do no harm); the rest
/// from any thread.
final class MongoSchemaGate: Sendable {
    private let state = Mutex<(ready: Bool, lastError: String?)>((false, nil))
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var isReady: Bool { state.withLock { $0.ready } }

    /// Why the schema is not there yet (the last failure), nil once it is.
    var problem: String? {
        state.withLock { $0.ready ? nil : ($0.lastError ?? "the indexes are not created yet") }
    }

    /// Creates the indexes on `db` unless done before. Worker thread.
    /// - Throws: the database's failure; the caller's call fails with it.
    func ensure(_ db: MongoConnection) throws {
        if isReady { return }
        do {
            for command in MongoSchema.indexCommands { try db.command(command) }
        } catch {
            let failure = StoreErrorText.describe(error)
            state.withLock { $0.lastError = "cannot create the indexes: \(failure)" }
            throw error
        }
        let first = state.withLock { state -> Bool in
            defer { state = (true, nil) }
            return !state.ready
        }
        if first { logger.info("mongo: indexes ready") }
    }
}

/// Error text for logs and `/readyz`.
enum StoreErrorText {
    static func describe(_ error: any Error) -> String {
        if let failure = error as? MongoFailure { return failure.message }
        return "\(error)"
    }
}
