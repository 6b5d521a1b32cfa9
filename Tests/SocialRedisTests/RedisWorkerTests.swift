import Foundation
import Logging
import SocialTesting
import Synchronization
import Testing
@testable import SocialRedis

/// The one reconnecting-thread helper every Redis worker runs on.
@Suite struct RedisWorkerTests {
    /// Connects to a port, then serves by pinging until stopped or broken; records what happened.
    final class Pinger: RedisWorkerBody, @unchecked Sendable {
        let url: RedisURL
        let worker: RedisWorker
        let log = Mutex<[String]>([])

        init(port: Int, reconnect: (Double, Double)) {
            url = RedisURL(host: "127.0.0.1", port: port)
            var logger = Logger(label: "redis-worker-test")
            logger.logLevel = .critical
            worker = RedisWorker(name: "test worker", url: url, logger: logger, reconnect: reconnect)
            worker.start(self)
        }

        func open() throws -> RedisConnection {
            try RedisConnection.connect(to: url, connectTimeout: 0.5, ioTimeout: 1)
        }

        func serve(_ connection: RedisConnection) throws {
            log.withLock { $0.append("up") }
            while !worker.isStopping {
                try connection.append(RedisCommand("PING"))
                guard try connection.reply().isPong else { throw RedisBusError.unexpectedReply("no PONG") }
                if worker.sleep(seconds: 0.02) { return }
            }
        }

        func connectFailed(_ error: any Error, failures: Int) { log.withLock { $0.append("failed \(failures)") } }
        func lost(_ error: any Error) { log.withLock { $0.append("lost") } }
        func finished() { log.withLock { $0.append("finished") } }

        var events: [String] { log.withLock { $0 } }
    }

    @Test func connectsWithBackoffServesReconnectsAfterALossAndStops() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        let pinger = Pinger(port: server.port, reconnect: (0.02, 0.1))
        #expect(await eventually { pinger.events.filter { $0.hasPrefix("failed") }.count >= 3 })
        #expect(pinger.events.starts(with: ["failed 1", "failed 2", "failed 3"]), "failures counted in a row")
        try server.restart()
        #expect(await eventually { pinger.events.contains("up") })
        server.kill()
        #expect(await eventually { pinger.events.contains("lost") })
        try server.restart()
        #expect(await eventually { pinger.events.filter { $0 == "up" }.count == 2 })
        pinger.worker.stop()
        await pinger.worker.exited()
        #expect(pinger.events.last == "finished")
        pinger.worker.waitUntilExited()  // returns at once once exited
    }

    @Test func stopWakesAWorkerWaitingOutALongBackoff() async throws {
        let server = try RedisTestServer.start()
        server.kill()
        let pinger = Pinger(port: server.port, reconnect: (30, 60))
        #expect(await eventually { pinger.events == ["failed 1"] })
        let started = Date()
        pinger.worker.stop()
        await OwnThreadExecutor.run { pinger.worker.waitUntilExited() }
        #expect(Date().timeIntervalSince(started) < 2, "not the 15-30 s backoff")
        #expect(pinger.events == ["failed 1", "finished"])
    }
}
