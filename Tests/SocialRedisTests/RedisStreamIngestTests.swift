import Foundation
import Logging
import SocialRedis
import SocialTesting
import Synchronization
import Testing

/// The stream ingest against a real redis-server: at-least-once, acknowledged
/// only after the handler stored the entry, and entries left pending by a
/// stopped or dead consumer are run again.
@Suite struct RedisStreamIngestTests {
    @Test func entriesAddedBeforeAndAfterTheStartAreStoredOnceAndAcknowledged() async throws {
        let server = try RedisTestServer.start()
        for n in 0..<5 { try add(server, "n\(n)") }
        let sink = Sink()
        let ingest = try start(server, consumer: "node-a", sink: sink)
        for n in 5..<10 { try add(server, "n\(n)") }

        #expect(await eventually { sink.stored.count == 10 })
        #expect(await eventually { (try? pending(server)) == 0 }, "every entry acknowledged")
        #expect(sink.stored.sorted() == (0..<10).map { "n\($0)" }.sorted())
        #expect(ingest.stats.stored == 10)
        await stop(ingest)
    }

    @Test func aRefusedEntryIsAcknowledgedAndCopiedWithItsReason() async throws {
        let server = try RedisTestServer.start()
        try add(server, "good")
        _ = try server.command("XADD", Self.stream, "*", "other", "x")
        let sink = Sink()
        let ingest = try start(server, consumer: "node-a", sink: sink)

        #expect(await eventually { ingest.stats.rejected == 1 && ingest.stats.stored == 1 })
        #expect(await eventually { (try? pending(server)) == 0 })
        let rejected = try server.command("XRANGE", Self.stream + ":rejected", "-", "+")
        let fields = rejected.elements?.first?.elements?.last?.elements ?? []
        let entry = fields.compactMap { $0.text }
        #expect(entry.contains("reason") && entry.contains("no notification field"))
        await stop(ingest)
    }

    @Test func anEntryTheStoreRefusesForNowStaysPendingAndIsRetried() async throws {
        let server = try RedisTestServer.start()
        let sink = Sink(failFirst: 3)
        let ingest = try start(server, consumer: "node-a", sink: sink)
        try add(server, "late")

        #expect(await eventually { ingest.stats.retried >= 1 })
        #expect(try pending(server) == 1, "not acknowledged while the store refuses it")
        #expect(await eventually { sink.stored == ["late"] })
        #expect(await eventually { (try? pending(server)) == 0 })
        #expect(ingest.stats.retried == 3)
        await stop(ingest)
    }

    @Test func aRestartedConsumerRunsWhatItHadReadButNotStored() async throws {
        let server = try RedisTestServer.start()
        let failing = Sink(failFirst: .max)
        // Added before the consumer starts, so its first read takes all three: the
        // consumer runs entries one at a time, and while the first keeps failing it
        // would not read entries added later.
        _ = try server.command("XGROUP", "CREATE", Self.stream, "social-gateway", "0", "MKSTREAM")
        for n in 0..<3 { try add(server, "r\(n)") }
        let first = try start(server, consumer: "node-a", sink: failing)
        #expect(await eventually { (try? pending(server)) == 3 }, "read, not acknowledged")
        await stop(first)

        let sink = Sink()
        let second = try start(server, consumer: "node-a", sink: sink)
        #expect(await eventually { sink.stored.count == 3 })
        #expect(await eventually { (try? pending(server)) == 0 })
        #expect(sink.stored.sorted() == ["r0", "r1", "r2"])
        await stop(second)
    }

    @Test func entriesOfADeadConsumerAreClaimedAfterTheIdleTime() async throws {
        let server = try RedisTestServer.start()
        _ = try server.command("XGROUP", "CREATE", Self.stream, "social-gateway", "0", "MKSTREAM")
        for n in 0..<4 { try add(server, "d\(n)") }
        // A node reads them, then dies before acknowledging.
        let read = try server.command("XREADGROUP", "GROUP", "social-gateway", "dead-node", "COUNT", "10",
                                      "STREAMS", Self.stream, ">")
        #expect(read.elements?.first?.elements?.last?.elements?.count == 4)

        let sink = Sink()
        let ingest = try start(server, consumer: "node-b", sink: sink, claimIdleMs: 200)
        #expect(await eventually { sink.stored.count == 4 })
        #expect(await eventually { (try? pending(server)) == 0 })
        await stop(ingest)
    }

    @Test func theIngestComesBackAfterRedisRestarts() async throws {
        let server = try RedisTestServer.start()
        let sink = Sink()
        let ingest = try start(server, consumer: "node-a", sink: sink)
        try add(server, "before")
        #expect(await eventually { sink.stored == ["before"] })

        server.kill()
        try server.restart()
        try add(server, "after")
        #expect(await eventually(timeout: 20) { sink.stored.count == 2 })
        #expect(ingest.stats.reconnects >= 1)
        await stop(ingest)
    }

    // MARK: Helpers

    static let stream = "social:notifications"

    private func add(_ server: RedisTestServer, _ key: String) throws {
        _ = try server.command("XADD", Self.stream, "*", "notification", #"{"key":"\#(key)"}"#)
    }

    private func pending(_ server: RedisTestServer) throws -> Int? {
        try server.command("XPENDING", Self.stream, "social-gateway").elements?.first?.integer
    }

    private func start(_ server: RedisTestServer, consumer: String, sink: Sink, claimIdleMs: Int = 30_000) throws -> RedisStreamIngest {
        let settings = StreamIngestSettings(consumer: consumer, blockMs: 100, claimIdleMs: claimIdleMs,
                                            retryInitialSeconds: 0.02, retryMaxSeconds: 0.1)
        return RedisStreamIngest(url: try RedisURL(parsing: server.url), settings: settings,
                                 logger: Logger(label: "test.ingest")) { entry in
            sink.take(entry)
        }
    }

    private func stop(_ ingest: RedisStreamIngest) async {
        ingest.stop()
        await ingest.waitUntilExited()
    }
}

/// Stands in for the notification store: keeps each entry's `key` once and
/// refuses the first `failFirst` attempts as "unavailable".
private final class Sink: Sendable {
    private struct State {
        var stored: [String] = []
        var failuresLeft: Int
    }
    private let state: Mutex<State>

    init(failFirst: Int = 0) { state = Mutex(State(failuresLeft: failFirst)) }

    var stored: [String] { state.withLock { $0.stored } }

    func take(_ entry: StreamEntry) -> IngestVerdict {
        guard let body = entry.fields["notification"],
              let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: String],
              let key = object["key"] else {
            return .rejected("no notification field")
        }
        return state.withLock { state in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return .retryLater("store unavailable")
            }
            if !state.stored.contains(key) { state.stored.append(key) }
            return .stored
        }
    }
}
