import Foundation
import Testing
import SocialTesting

/// A node started while MongoDB and Redis are down starts anyway, says why it
/// is not ready on `/readyz`, and becomes ready when they come back.
@Suite(.serialized) struct ReadinessTests {
    init() async throws { try await Fixture.prepare() }

    /// `/readyz`: its status and each backend's `ready` and `reason`, by name.
    static func readyz(_ port: Int) -> (status: Int, backends: [String: (ready: Bool, reason: String?)])? {
        guard let response = try? RawSocket.http(port: port, path: "/readyz", timeout: 3),
              let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any] else { return nil }
        var backends: [String: (Bool, String?)] = [:]
        for backend in json["backends"] as? [[String: Any]] ?? [] {
            guard let name = backend["name"] as? String else { continue }
            backends[name] = (backend["ready"] as? Bool ?? false, backend["reason"] as? String)
        }
        return (response.status, backends)
    }

    /// Polls `/readyz` until `condition` holds (or `timeout` passes); returns the last answer.
    static func waitReadyz(_ port: Int, timeout: Double = 20,
                           until condition: ((status: Int, backends: [String: (ready: Bool, reason: String?)])) -> Bool)
        -> (status: Int, backends: [String: (ready: Bool, reason: String?)])? {
        let deadline = Date().addingTimeInterval(timeout)
        var last = readyz(port)
        while Date() < deadline {
            if let answer = last, condition(answer) { return answer }
            Thread.sleep(forTimeInterval: 0.2)
            last = readyz(port)
        }
        return last
    }

    @Test func aNodeStartedWithTheDatabaseAndRedisDownStartsUnreadyAndBecomesReady() throws {
        let mongoPort = RawSocket.freePort()
        let redisPort = RawSocket.freePort()
        // Nothing listens on either port yet.
        let node = try Fixture.gateway(["--store", "mongodb://127.0.0.1:\(mongoPort)/", "--mongo-database", "unready",
                                        "--mongo-write-concern", "1", "--mongo-timeout-ms", "500",
                                        "--bus", "redis://127.0.0.1:\(redisPort)"])
        #expect(node.isRunning, "the node starts")
        let down = Self.waitReadyz(node.port) { $0.backends["mongodb"]?.reason != "not probed yet" }
        #expect(down?.status == 503)
        #expect(down?.backends["mongodb"]?.ready == false)
        #expect(down?.backends["mongodb"]?.reason?.isEmpty == false, "the reason is given")
        #expect(down?.backends["redis_bus"]?.ready == false)
        #expect(down?.backends["redis_bus"]?.reason?.contains("Redis") == true)
        #expect(try RawSocket.http(port: node.port, path: "/healthz").status == 200, "alive though not ready")

        let redis = try RedisTestServer.start(port: redisPort)
        defer { redis.kill() }
        let busBack = Self.waitReadyz(node.port) { $0.backends["redis_bus"]?.ready == true && $0.backends["redis_presence"]?.ready == true }
        #expect(busBack?.backends["redis_bus"]?.ready == true, "ready for Redis once it is up")
        #expect(busBack?.status == 503, "still not ready: the database is down")

        let mongo = try MongoTestServer.start(ownProcess: true, port: mongoPort)
        defer { mongo.stop() }
        let ready = Self.waitReadyz(node.port, timeout: 30) { $0.status == 200 }
        #expect(ready?.status == 200)
        #expect(ready?.backends.values.allSatisfy(\.ready) == true)

        // It serves, with the indexes made once the database answered: a retried send is stored once.
        let ann = try Fixture.client(node, "ann")
        let chat = try #require((ann.ok("chat.open_direct", ["user_id": "bob"], timeout: 20)?["chat"] as? [String: Any])?["chat_id"] as? String)
        for _ in 0..<2 { #expect(ann.ok("chat.send", ["chat_id": chat, "text": "hi", "client_msg_id": "m-1"], timeout: 20) != nil) }
        let history = DistributedFaultTests.history(ann, chat: chat)
        #expect(history.values.filter { $0["client_msg_id"] as? String == "m-1" }.count == 1)
        #expect(node.logs.contains("starting unready"))
    }

    @Test func aNodeThatLosesRedisSaysSoAndRecovers() throws {
        let redis = try RedisTestServer.start()
        let node = try Fixture.gateway(["--store", "memory", "--bus", redis.url])
        #expect(Self.waitReadyz(node.port) { $0.status == 200 }?.status == 200)
        redis.kill()
        let lost = Self.waitReadyz(node.port) { $0.status == 503 }
        #expect(lost?.backends["redis_bus"]?.ready == false)
        #expect(lost?.backends["memory"]?.ready == true)
        try redis.restart()
        #expect(Self.waitReadyz(node.port) { $0.status == 200 }?.status == 200)
        redis.kill()
    }
}
