import Foundation
@testable import SocialMongo
import SocialTesting
import Testing

/// One test server for a whole suite: started before its first test,
/// stopped after its last (`MONGO_URL` when set).
struct MongoServerTrait: SuiteTrait, TestScoping {
    @TaskLocal static var current: MongoTestServer?

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let server = try MongoTestServer.start()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == MongoServerTrait {
    /// Runs the suite against one MongoDB-wire test server.
    static var mongoServer: Self { Self() }
}

/// Skips (with the reason) when no server can be had, except in CI, where a
/// missing server fails the tests instead.
let mongoAvailable = ConditionTrait.enabled(if: MongoTestServer.shouldRun,
                                            "no MongoDB-wire test server: \(MongoTestServer.installHint)")

enum MongoFixture {
    /// The suite's server (see `MongoServerTrait`).
    static var server: MongoTestServer {
        get throws {
            guard let server = MongoServerTrait.current else { throw MinterError("the suite has no .mongoServer trait") }
            return server
        }
    }

    /// A database name no other test uses.
    static func uniqueDatabase(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(12).lowercased())"
    }

    /// A store on `database` of `server`. It records its queries: `dispose`
    /// checks that each names its collection's shard key.
    static func store(_ server: MongoTestServer, database: String, workers: Int = 4,
                      serverSelectionTimeoutMS: Int = 2_000) async throws -> MongoChatStore {
        let store = try await MongoChatStore(uri: server.url, database: database, serverSelectionTimeoutMS: serverSelectionTimeoutMS,
                                             writeConcern: "majority", workers: workers)
        store.workers.queries.start()
        return store
    }

    /// Checks the store's queries against the shard keys (`MongoShardKeys`:
    /// every test of the store, the contracts included, is also a check of the
    /// sharding design), drops its database (best effort) and closes it.
    static func dispose(_ store: MongoChatStore) async {
        let unkeyed = MongoShardKeys.unkeyed(store.workers.queries.recorded)
        #expect(unkeyed.isEmpty, "queries that name neither their collection's shard key nor a known scatter read: \(Set(unkeyed))")
        _ = try? await store.workers.run { db in try db.command(["dropDatabase": 1]) }
        await store.close()
    }

    /// `count` stores on one fresh database of the suite's server (standing
    /// for gateway nodes); afterwards the database is dropped through the last
    /// one and all are closed, whether `body` throws or not.
    static func withStores(_ count: Int, _ body: ([MongoChatStore]) async throws -> Void) async throws {
        let server = try server
        let database = uniqueDatabase("nodes")
        var stores: [MongoChatStore] = []
        do {
            for _ in 0..<count { stores.append(try await store(server, database: database)) }
            try await body(stores)
        } catch {
            await disposeAll(stores)
            throw error
        }
        await disposeAll(stores)
    }

    private static func disposeAll(_ stores: [MongoChatStore]) async {
        if let last = stores.last { await dispose(last) }
        for store in stores.dropLast() { await store.close() }
    }
}
