import CMongoC
import Foundation
import Logging
import SocialCore

/// Owns the `mongoc_client_pool_t`: its clients share one background monitor
/// of the deployment and a bounded set of connections.
///
/// Threads: `init` on the thread starting the store; `pop` on worker threads;
/// `close` once every worker has exited (it destroys the pool, which requires
/// all clients to be back). `@unchecked Sendable` because libmongoc documents
/// `mongoc_client_pool_pop`/`push` as thread-safe and `pointer` is only
/// cleared under `lock` after the workers are gone.
final class MongoPool: @unchecked Sendable {
    private let lock = NSLock()
    private var pointer: OpaquePointer?

    /// Calls `mongoc_init` (once per process) and makes the pool from `uri`.
    init(uri: MongoURI, appName: String) throws {
        MongoRuntime.ensureInitialized()
        var error = bson_error_t()
        guard let pool = uri.withPointer({ mongoc_client_pool_new_with_error($0, &error) }) else {
            throw StoreError.unavailable("mongo: cannot make a client pool: \(MongoFailure(error).message)")
        }
        pointer = pool
        // Error API 2: server errors come in MONGOC_ERROR_SERVER with the server's code (11000...).
        guard mongoc_client_pool_set_error_api(pool, 2), mongoc_client_pool_set_appname(pool, appName) else {
            close()
            throw StoreError.unavailable("mongo: cannot configure the client pool")
        }
    }

    deinit { close() }

    /// Takes a client, blocking while all are in use. Nil once closed.
    /// Threads: worker threads.
    func pop() -> MongoClient? {
        guard let pool = lock.withLock({ pointer }), let client = mongoc_client_pool_pop(pool) else { return nil }
        return MongoClient(client, pool: self, handle: pool)
    }

    /// Gives `client` back. Threads: the worker thread that popped it (from `MongoClient.deinit`).
    fileprivate func push(_ client: OpaquePointer, to pool: OpaquePointer) {
        mongoc_client_pool_push(pool, client)
    }

    /// Destroys the pool and its connections. Idempotent. Every client must be back.
    func close() {
        let pool: OpaquePointer? = lock.withLock {
            defer { pointer = nil }
            return pointer
        }
        if let pool { mongoc_client_pool_destroy(pool) }
    }
}

/// One client popped from the pool, pushed back in `deinit`.
///
/// Threads: the worker thread that popped it, for one job; a libmongoc
/// client is not thread-safe.
final class MongoClient {
    private let pointer: OpaquePointer
    /// Keeps the pool alive while the client is out.
    private let pool: MongoPool
    private let poolHandle: OpaquePointer

    fileprivate init(_ pointer: OpaquePointer, pool: MongoPool, handle: OpaquePointer) {
        self.pointer = pointer
        self.pool = pool
        self.poolHandle = handle
    }

    deinit { pool.push(pointer, to: poolHandle) }

    /// Calls `body` with the `mongoc_client_t*`; it must not escape `body`.
    func withPointer<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T { try body(pointer) }
}

/// `mongoc_init` once per process, with libmongoc's log routed to swift-log;
/// never `mongoc_cleanup`, since stores may come and go until the process exits.
enum MongoRuntime {
    private static let initialized: Void = {
        mongoc_init()
        mongoc_log_set_handler({ level, domain, message, _ in MongoRuntime.log(level, domain, message) }, nil)
    }()

    /// Threads: any (Swift runs the initializer once).
    static func ensureInitialized() { _ = initialized }

    private static let logger = Logger(label: "social.mongo.libmongoc")

    /// libmongoc's own messages: errors and warnings are kept; its chatter
    /// (every failed monitor check while the database is down) is debug.
    /// Threads: any libmongoc thread, including the pool's background monitor.
    private static func log(_ level: mongoc_log_level_t, _ domain: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?) {
        let swiftLevel: Logger.Level
        switch level {
        case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL: swiftLevel = .error
        case MONGOC_LOG_LEVEL_WARNING: swiftLevel = .warning
        case MONGOC_LOG_LEVEL_TRACE: return
        default: swiftLevel = .debug
        }
        guard logger.logLevel <= swiftLevel else { return }
        let text = message.map { String(cString: $0) } ?? ""
        logger.log(level: swiftLevel, "\(text)", metadata: ["domain": "\(domain.map { String(cString: $0) } ?? "")"])
    }
}
