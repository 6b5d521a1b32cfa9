import Foundation
import SocialTesting

/// Three gateway nodes sharing one Redis and one MongoDB-wire server, as in
/// production behind a load balancer. Everything is torn down with the value.
final class Cluster {
    let redis: RedisTestServer
    let mongo: MongoTestServer
    let database: String
    private(set) var nodes: [GatewayProcess]

    init(nodes count: Int = 3, extra: [String] = []) throws {
        redis = try RedisTestServer.start()
        mongo = try MongoTestServer.start(ownProcess: true)
        database = "social_\(UUID().uuidString.prefix(8).lowercased())"
        nodes = []
        for _ in 0..<count { nodes.append(try startNode(extra)) }
    }

    /// The flags that make a node distributed.
    var flags: [String] {
        ["--store", mongo.url, "--mongo-database", database, "--mongo-write-concern", "1",
         "--mongo-timeout-ms", "1500", "--bus", redis.url]
    }

    func startNode(_ extra: [String] = [], port: Int? = nil) throws -> GatewayProcess {
        try Fixture.gateway(flags + extra, port: port)
    }

    /// Replaces node `index` with a fresh process on a new port.
    func replaceNode(_ index: Int, _ extra: [String] = []) throws {
        nodes[index] = try startNode(extra)
    }

    deinit {
        for node in nodes { node.kill() }
        mongo.stop()
        redis.kill()
    }
}
