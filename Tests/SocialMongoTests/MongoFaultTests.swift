import Foundation
import SocialCore
@testable import SocialMongo
import SocialTesting
import Testing

/// The database goes away and comes back: calls fail fast with a temporary
/// error while it is down, and succeed again once it is back.
@Suite(.enabled(if: MongoTestServer.canRunOwnProcess,
                "needs secantusd-py to kill and restart: \(MongoTestServer.installHint)"))
struct MongoFaultTests {
    /// A generous bound on "fails within a few seconds" (server selection is 2 s).
    let failFastBound: Duration = .seconds(10)

    @Test func callsFailTemporarilyWhileTheServerIsDownAndSucceedWhenItIsBack() async throws {
        let storage = RepoPaths.temporaryDirectory(prefix: "mongo-fault")
        defer { try? FileManager.default.removeItem(atPath: storage) }
        let server = try MongoTestServer.start(ownProcess: true, storagePath: storage, durable: true)
        defer { server.stop() }
        let store = try await MongoChatStore(uri: server.url, database: "fault", serverSelectionTimeoutMS: 2_000)
        _ = try await store.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
        _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "before", createdAt: 2))
        #expect(await store.ping())

        server.kill()
        // Timed on a thread of its own: other suites may be blocking Swift's cooperative threads.
        await OwnThreadExecutor.run(name: "fault-timing") {
            for (name, call) in Self.calls(store) {
                let start = ContinuousClock.now
                let error = await #expect(throws: StoreError.self, "\(name) while down") { try await call() }
                let elapsed = ContinuousClock.now - start
                #expect(error?.isTemporary == true, "\(name): \(String(describing: error))")
                #expect(elapsed < failFastBound, "\(name) failed after \(elapsed)")
            }
            let start = ContinuousClock.now
            #expect(await store.ping() == false)
            #expect(ContinuousClock.now - start < failFastBound, "ping")
        }

        try server.restart()
        let recovered = try await Self.eventually(timeout: .seconds(30)) {
            try await store.append(NewMessage(chatId: "g", sender: "ann", text: "after", createdAt: 3))
        }
        #expect(recovered.message.seq == 3, "the outage took no seq")
        #expect(await store.ping())
        let history = try await store.history("g", before: nil, after: nil, limit: 10)
        #expect(history.map(\.text) == [nil, "before", "after"])
        await store.close()
    }

    @Test func aStoreStartedBeforeTheDatabaseCreatesItsIndexesWhenItArrives() async throws {
        let port = RawSocket.freePort()
        let store = try await MongoChatStore(uri: "mongodb://127.0.0.1:\(port)/", database: "late", serverSelectionTimeoutMS: 500)
        #expect(await store.unreadyReason() != nil)
        let server = try MongoTestServer.start(ownProcess: true, port: port)
        defer { server.stop() }
        let ready = try await Self.eventually(timeout: .seconds(30)) {
            if let reason = await store.unreadyReason() { throw StoreError.unavailable(reason) }
            return true
        }
        #expect(ready)
        // The unique indexes are there: a client id sent twice is stored once.
        _ = try await store.createGroup(id: "g", title: "G", isOpen: true, owner: "ann", now: 1)
        let first = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "hi", clientMsgId: "c-1", createdAt: 2))
        let again = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "hi", clientMsgId: "c-1", createdAt: 3))
        #expect(again.duplicate && again.message.seq == first.message.seq)
        let indexes = try await store.workers.run { db in
            try db.command(["listIndexes": "messages"])
        }
        #expect("\(indexes)".contains("chat_client"), "\(indexes)")
        await store.close()
    }

    /// One write and one read, each in a closure.
    private static func calls(_ store: MongoChatStore) -> [(String, () async throws -> Void)] {
        [("append", { _ = try await store.append(NewMessage(chatId: "g", sender: "ann", text: "down", createdAt: 2)) }),
         ("history", { _ = try await store.history("g", before: nil, after: nil, limit: 10) }),
         ("memberships", { _ = try await store.memberships(of: "ann") })]
    }

    /// Retries `body` until it succeeds or `timeout` passes (then rethrows its last error).
    private static func eventually<T>(timeout: Duration, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            do { return try await body() } catch where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
