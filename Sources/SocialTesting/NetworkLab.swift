import Foundation

/// A small network of its own for partition tests: a hub namespace holding
/// Redis and the MongoDB-wire server, and one namespace per gateway node,
/// joined to the hub by a veth pair. Every address lives inside these
/// namespaces; this machine's own network is not touched (no address, no
/// route): the test reaches the processes inside through forwarders bound to
/// this machine's loopback (`Tests/partition/ns_forward.py`).
///
/// ```
///   test (loopback) ── forwarders ──┐ hub: redis 10.233.0.10, mongo 10.233.0.11,
///                                   │      clients from 10.233.0.1, probes from 10.233.0.2
///         node i: 10.233.i.2 ── veth ── 10.233.i.1 (hub)
/// ```
///
/// A cut is a blackhole route in a node's namespace: the node can no longer
/// send to Redis, the database or its clients (their packets still arrive; its
/// answers and acknowledgements do not leave, so to both sides the connection
/// goes silent, as in a real partition). `heal` removes the route.
///
/// Needs root and `ip`, `nsenter` (iproute2, util-linux): `unavailableReason`
/// says why not. Threads: one test thread.
public final class NetworkLab: @unchecked Sendable {
    /// What a node can be cut off from.
    public enum Peer: String, Sendable {
        case redis, mongo, clients
    }

    public static let ip = "/usr/sbin/ip"
    public static let nsenter = "/usr/bin/nsenter"

    public let hub: String
    public let nodes: [String]
    public let redisPort: Int
    public let mongoPort: Int
    /// Per node: the port its clients use on loopback (forwarded from the
    /// clients' address; the node listens on the same port in its namespace).
    public let clientPorts: [Int]
    /// Per node: a second way in, from the probes' address, which a client cut does not cut.
    public let probePorts: [Int]
    private let forwarder: Process
    private var cuts: Set<String> = []

    static let redisAddress = "10.233.0.10"
    static let mongoAddress = "10.233.0.11"
    static let clientsAddress = "10.233.0.1"
    static let probesAddress = "10.233.0.2"

    /// Whether this machine lets a test make namespaces, and if not why.
    public static let unavailableReason: String? = {
        guard getuid() == 0 else { return "network namespaces need root" }
        for tool in [ip, nsenter] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing"
        }
        let probe = "sgprobe-\(getpid())"
        do {
            try run(ip, ["netns", "add", probe])
        } catch {
            return "cannot make a network namespace (ip netns add): \(error)"
        }
        defer { _ = try? run(ip, ["netns", "del", probe]) }
        do {
            try run(ip, ["-n", probe, "link", "set", "lo", "up"])
            try run(ip, ["-n", probe, "link", "add", "sga", "type", "veth", "peer", "name", "sgb"])
            try run(nsenter, ["--net=/run/netns/\(probe)", "--", "/bin/true"])
        } catch {
            return "cannot set up or enter a network namespace (veth, nsenter): \(error)"
        }
        return nil
    }()

    /// Makes the namespaces, links and forwarders for `nodes` nodes.
    public init(nodes count: Int) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max) & 0xFFFFF, radix: 16)
        hub = "sg\(tag)-hub"
        nodes = (1...count).map { "sg\(tag)-n\($0)" }
        redisPort = RawSocket.freePort()
        mongoPort = RawSocket.freePort()
        clientPorts = (0..<count).map { _ in RawSocket.freePort() }
        probePorts = (0..<count).map { _ in RawSocket.freePort() }
        forwarder = Process()
        do {
            try Self.run(Self.ip, ["netns", "add", hub])
            try Self.run(Self.ip, ["-n", hub, "link", "set", "lo", "up"])
            for address in [Self.redisAddress, Self.mongoAddress, Self.clientsAddress, Self.probesAddress] {
                try Self.run(Self.ip, ["-n", hub, "addr", "add", "\(address)/32", "dev", "lo"])
            }
            for (index, node) in nodes.enumerated() {
                let n = index + 1
                try Self.run(Self.ip, ["netns", "add", node])
                try Self.run(Self.ip, ["-n", node, "link", "set", "lo", "up"])
                // Made in the namespaces directly: the names never exist on this machine's network.
                try Self.run(Self.ip, ["-n", hub, "link", "add", "h\(n)", "type", "veth", "peer", "name", "eth0", "netns", node])
                try Self.run(Self.ip, ["-n", hub, "addr", "add", "10.233.\(n).1/24", "dev", "h\(n)"])
                try Self.run(Self.ip, ["-n", hub, "link", "set", "h\(n)", "up"])
                try Self.run(Self.ip, ["-n", node, "addr", "add", "10.233.\(n).2/24", "dev", "eth0"])
                try Self.run(Self.ip, ["-n", node, "link", "set", "eth0", "up"])
                try Self.run(Self.ip, ["-n", node, "route", "add", "default", "via", "10.233.\(n).1"])
            }
            var maps = ["\(redisPort):\(Self.redisAddress):\(redisPort)", "\(mongoPort):\(Self.mongoAddress):\(mongoPort)"]
            for (index, _) in nodes.enumerated() {
                let address = Self.nodeAddress(index)
                maps.append("\(clientPorts[index]):\(address):\(clientPorts[index]):\(Self.clientsAddress)")
                maps.append("\(probePorts[index]):\(address):\(clientPorts[index]):\(Self.probesAddress)")
            }
            forwarder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            forwarder.arguments = ["python3", RepoPaths.root + "/Tests/partition/ns_forward.py", "--netns", hub]
                + maps.flatMap { ["--map", $0] }
            let output = Pipe()
            forwarder.standardOutput = output
            try forwarder.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard line.contains("ready") else { throw MinterError("the namespace forwarder did not start: \(line)") }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    private static func nodeAddress(_ index: Int) -> String { "10.233.\(index + 1).2" }

    /// Where node `index` runs: its namespace, its address.
    public func nodePlacement(_ index: Int) -> NetworkPlacement {
        NetworkPlacement(namespace: nodes[index], host: Self.nodeAddress(index))
    }

    public var redisPlacement: NetworkPlacement { NetworkPlacement(namespace: hub, host: Self.redisAddress) }
    public var mongoPlacement: NetworkPlacement { NetworkPlacement(namespace: hub, host: Self.mongoAddress) }
    /// The bus URL the nodes use.
    public var redisURL: String { "redis://\(Self.redisAddress):\(redisPort)" }

    /// Node `index` can no longer reach `peer` (nor answer it).
    public func cut(_ index: Int, from peer: Peer) throws {
        try Self.run(Self.ip, ["-n", nodes[index], "route", "add", "blackhole", "\(address(of: peer))/32"])
        cuts.insert("\(index):\(peer.rawValue)")
    }

    /// Undoes `cut`.
    public func heal(_ index: Int, from peer: Peer) throws {
        try Self.run(Self.ip, ["-n", nodes[index], "route", "del", "blackhole", "\(address(of: peer))/32"])
        cuts.remove("\(index):\(peer.rawValue)")
    }

    private func address(of peer: Peer) -> String {
        switch peer {
        case .redis: Self.redisAddress
        case .mongo: Self.mongoAddress
        case .clients: Self.clientsAddress
        }
    }

    /// Whether a TCP connection to `host:port` succeeds from inside `namespace` (within a second).
    public static func canConnect(in namespace: String, host: String, port: Int) -> Bool {
        let script = "import socket,sys\ntry:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()\nexcept OSError:\n sys.exit(1)"
        return (try? run(nsenter, ["--net=/run/netns/\(namespace)", "--", "/usr/bin/env", "python3", "-c", script,
                                   host, String(port)])) != nil
    }

    /// Stops the forwarder and deletes the namespaces (their links go with them). Idempotent.
    public func tearDown() {
        if forwarder.isRunning {
            kill(forwarder.processIdentifier, SIGKILL)
            forwarder.waitUntilExit()
        }
        for namespace in nodes + [hub] { _ = try? Self.run(Self.ip, ["netns", "del", namespace]) }
    }

    /// Runs a command to its end; throws with its output when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw MinterError("\(executable) \(arguments.joined(separator: " ")): exit \(process.terminationStatus): \(text)")
        }
        return text
    }
}
