import Foundation
import SocialTesting

/// Three gateway nodes sharing one Redis (or several, as the shards of the
/// bus) and one MongoDB-wire server, as in production behind a load
/// balancer. Everything is torn down with the value.
final class Cluster {
    /// The bus's shards, in `--bus` order.
    let shards: [RedisTestServer]
    let mongo: MongoTestServer
    let database: String
    private(set) var nodes: [GatewayProcess]

    /// The Redis of an unsharded cluster (the first shard).
    var redis: RedisTestServer { shards[0] }

    init(nodes count: Int = 3, shards shardCount: Int = 1, extra: [String] = []) throws {
        shards = try (0..<shardCount).map { _ in try RedisTestServer.start() }
        mongo = try MongoTestServer.start(ownProcess: true)
        database = "social_\(UUID().uuidString.prefix(8).lowercased())"
        nodes = []
        for _ in 0..<count { nodes.append(try startNode(extra)) }
    }

    /// The flags that make a node distributed.
    var flags: [String] {
        ["--store", mongo.url, "--mongo-database", database, "--mongo-write-concern", "1",
         "--mongo-timeout-ms", "1500", "--bus", shards.map(\.url).joined(separator: ",")]
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
        for shard in shards { shard.kill() }
    }
}

/// nginx from Debian in front of the cluster, with the README's configuration
/// (`deploy/nginx.conf`), its upstreams pointed at the cluster's nodes.
final class NginxProxy {
    let port: Int
    let directory: String
    private let process: Process

    init(nodes: [GatewayProcess]) throws {
        port = RawSocket.freePort()
        directory = RepoPaths.temporaryDirectory(prefix: "nginx")
        var config = try String(contentsOfFile: RepoPaths.root + "/deploy/nginx.conf", encoding: .utf8)
        // Point the documented configuration at this test's ports and files.
        let upstreams = nodes.map { "        server 127.0.0.1:\($0.port) max_fails=1 fail_timeout=5s;" }.joined(separator: "\n")
        config = config.replacingOccurrences(
            of: #"(?m)^        server 127\.0\.0\.1:808[1-3] max_fails=1 fail_timeout=5s;\n?"#, with: "", options: .regularExpression)
        config = config.replacingOccurrences(of: "least_conn;", with: "least_conn;\n" + upstreams)
        config = config.replacingOccurrences(of: "listen 127.0.0.1:8080;", with: "listen 127.0.0.1:\(port);")
        config = config.replacingOccurrences(of: "/tmp/social-gateway-nginx", with: directory + "/nginx")
        config = config.replacingOccurrences(of: "worker_connections 20000;", with: "worker_connections 1024;")
        let path = directory + "/nginx.conf"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", path, "-p", directory, "-e", directory + "/error.log", "-g", "daemon off;"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? RawSocket(port: port, timeout: 1)) != nil { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw MinterError("nginx did not start: \((try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "")")
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
