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

    /// A store on `database` of `server`.
    static func store(_ server: MongoTestServer, database: String, workers: Int = 4,
                      serverSelectionTimeoutMS: Int = 2_000) async throws -> MongoChatStore {
        try await MongoChatStore(uri: server.url, database: database, serverSelectionTimeoutMS: serverSelectionTimeoutMS,
                                 writeConcern: "majority", workers: workers)
    }

    /// Drops the store's database (best effort) and closes the store.
    static func dispose(_ store: MongoChatStore) async {
        _ = try? await store.workers.run { db in try db.command(["dropDatabase": 1]) }
        await store.close()
    }
}
