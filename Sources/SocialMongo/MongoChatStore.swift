import Logging
import SocialCore

/// The distributed `ChatStore`: MongoDB through libmongoc, shared by every
/// gateway node behind the load balancer.
///
/// - Threads: `workers` threads of its own run every libmongoc call; each job
///   pops a client from one `mongoc_client_pool_t`, runs, and pushes it back.
///   Methods may be called from any task, concurrently.
/// - Sequences: gap-free per chat across nodes, without transactions: the
///   chat document is the counter, claimed by compare-and-set together with a
///   description of the change, which any node completes (see `ChatLog`).
/// - Idempotent sends: the client id is checked against the chat's state
///   before a seq is claimed, and a concurrent claim of the same id loses its
///   compare-and-set and then finds the original (index `chat_client` backs it up).
/// - Durability: a call returns once its writes are acknowledged with the
///   configured write concern.
/// - Errors: server selection, network, timeouts and write concern failures
///   are `unavailable` (temporary), within about `serverSelectionTimeoutMS`
///   while the database is down; calls succeed again once it is back.
///   An `unavailable` write may still have happened (an acknowledgement lost
///   on the way back, or a claimed change that the next call completes).
public final class MongoChatStore: ChatStore {
    let workers: MongoWorkers
    /// The per-chat order of the changes this node submits.
    let lanes = ChatLanes()
    let logger: Logger
    /// Whether the indexes exist; no call runs before they do.
    let schema: MongoSchemaGate
    /// The database this store uses.
    public let database: String

    /// Makes the client pool and the worker threads, and creates the
    /// collections' indexes if the database answers. A database that does not
    /// answer does not fail the store: it starts unready (`unreadyReason`),
    /// its calls fail `unavailable`, and the first call that reaches the
    /// database once it is back creates the indexes before it runs.
    /// - Parameters:
    ///   - uri: a MongoDB connection string (`mongodb://host:port/?options`).
    ///   - database: the database holding the store's collections.
    ///   - serverSelectionTimeoutMS: how long a call waits for a usable server
    ///     before failing `unavailable`; also the connect timeout unless the URI sets one.
    ///   - writeConcern: `"majority"` or a number of nodes, e.g. `"1"`.
    ///   - workers: threads running libmongoc calls (and clients in use at once).
    ///   - logger: where start-up and close are reported.
    /// - Throws: `StoreError.unavailable` for an invalid URI or write concern
    ///   (a configuration error: retrying does not help).
    public init(uri: String, database: String = "social", serverSelectionTimeoutMS: Int = 2_000,
                writeConcern: String = "majority", workers: Int = 4,
                logger: Logger = Logger(label: "social.mongo")) async throws {
        let settings = MongoSettings(serverSelectionTimeoutMS: serverSelectionTimeoutMS, writeConcern: writeConcern)
        // The URI and pool are owners: whatever was made is freed if a later step throws.
        let pool = try MongoPool(uri: try MongoURI(uri, settings: settings), appName: "social-gateway")
        self.workers = MongoWorkers(pool: pool, database: database, count: workers)
        self.logger = logger
        self.database = database
        self.schema = MongoSchemaGate(logger: logger)
        if let reason = await unreadyReason() {
            logger.warning("mongo: the database does not answer; starting unready", metadata: [
                "database": "\(database)", "reason": "\(reason)"])
        } else {
            logger.info("mongo: store ready", metadata: ["database": "\(database)", "workers": "\(workers)"])
        }
    }

    deinit { workers.stopAccepting() }

    /// Stops the workers once queued calls are done and destroys the client
    /// pool. Later calls fail `unavailable`. Idempotent.
    public func close() async {
        await workers.close()
    }

    /// Runs the `ping` command (for `/readyz`): false when the database does
    /// not answer within the server selection timeout, or the indexes could
    /// not be created yet.
    public func ping() async -> Bool {
        await unreadyReason() == nil
    }

    /// Why the store cannot serve now (for `/readyz`): the database does not
    /// answer, or the indexes could not be created; nil when it is ready.
    /// Creates the indexes when the database answers and they are missing.
    public func unreadyReason() async -> String? {
        do {
            let ok = try await run { log in
                try log.db.command(["ping": 1], on: "admin")["ok"]?.int64 == 1
            }
            return ok ? nil : "the database answered ping without ok"
        } catch {
            logger.debug("mongo: ping failed", metadata: ["error": "\(error)"])
            return schema.problem.map { "\($0)" } ?? "the database does not answer: \(error)"
        }
    }

    /// Runs `body` on a worker with the chat log of its connection, once the indexes exist.
    func run<T: Sendable>(_ body: @escaping @Sendable (ChatLog) throws -> T) async throws -> T {
        try await workers.run { [schema] db in
            try schema.ensure(db)
            return try body(ChatLog(db: db))
        }
    }

    /// Runs `body` on a worker with its connection, once the indexes exist.
    func runDB<T: Sendable>(_ body: @escaping @Sendable (MongoConnection) throws -> T) async throws -> T {
        try await workers.run { [schema] db in
            try schema.ensure(db)
            return try body(db)
        }
    }

    /// Runs the change `body` in `chat`'s lane: on a worker, once the chat's
    /// changes submitted before it have completed. `completion` gets its
    /// result on that worker; then the lane's next change starts.
    /// Errors: libmongoc failures become `StoreError`s; any other error (a
    /// rule's refusal) reaches `completion` unchanged.
    func inLane<T>(_ chat: ChatID, _ body: @escaping @Sendable (ChatLog) throws -> T,
                   completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        lanes.submit(chat) { [workers, lanes, schema] in
            workers.submit { connection in
                let result: Result<T, any Error>
                if let connection {
                    result = Result {
                        try schema.ensure(connection)
                        return try body(ChatLog(db: connection))
                    }.mapError(StoreError.refusal)
                } else {
                    result = .failure(StoreError.unavailable("mongo: store is closed"))
                }
                completion(result)
                lanes.finished(chat)
            }
        }
    }
}
