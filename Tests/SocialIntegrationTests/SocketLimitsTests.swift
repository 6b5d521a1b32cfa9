import Foundation
import Testing
import SocialTesting

/// Every accepted socket counts, not only sessions: floods of connections that
/// never send a request, and a process out of descriptors, over real sockets
/// against a gateway process.
@Suite(.serialized) struct SocketLimitsTests {
    init() async throws {
        try await Fixture.prepare()
        Self.raiseOwnOpenFileLimit()
    }

    /// 2,000 sockets that connect and send nothing, ten times the half-open cap:
    /// a connected client's `ping` and a health probe keep answering
    /// throughout, the node holds no more half-open sockets than the cap, and
    /// /metrics shows the half-open sockets it closed to make room.
    @Test func aFloodOfHalfOpenSocketsBeyondTheCapLeavesPingAndHealthzAnswering() throws {
        let gateway = try Fixture.gateway(["--max-pending-handshakes", "200"])
        let client = try Fixture.client(gateway, "alice")
        let probe = ProcessProbe(pid: gateway.pid)
        var held: [RawSocket] = []
        for round in 0..<10 {
            for _ in 0..<200 { held.append(try RawSocket(port: gateway.port, timeout: 2)) }
            let started = Date()
            #expect(client.ok("ping", timeout: 2) != nil, "ping answered with \(held.count) half-open sockets")
            #expect(Date().timeIntervalSince(started) < 1)
            let health = try RawSocket.http(port: gateway.port, path: "/healthz", timeout: 2)
            #expect(health.status == 200, "healthz in round \(round)")
        }
        #expect(probe.openDescriptors < 200 + 100, "half-open sockets beyond the cap were closed: \(probe.openDescriptors) open")
        let metrics = try RawSocket.http(port: gateway.port, path: "/metrics").body
        #expect(Self.value(metrics, "social_sockets_evicted_total") ?? 0 >= 1_500, "\(Self.socketLines(metrics))")
        #expect(Self.value(metrics, #"social_sockets{state="half_open"}"#) ?? 999 <= 200, "\(Self.socketLines(metrics))")
        // A new client gets in while the flood is still held.
        let late = try Fixture.client(gateway, "bob")
        #expect(late.ok("ping") != nil)
        withExtendedLifetime(held) {}
    }

    /// A socket that connects and sends nothing, or only part of its request
    /// head, is closed once `--handshake-timeout` has passed (lws's timeout
    /// for it was 10 s whatever the setting); a client that connects
    /// meanwhile is served.
    @Test func aRequestHeadThatDoesNotComeWithinTheHandshakeTimeoutIsClosed() throws {
        let gateway = try Fixture.gateway(["--handshake-timeout", "2"])
        let silent = try RawSocket(port: gateway.port, timeout: 30)
        let partial = try RawSocket(port: gateway.port, timeout: 30)
        try partial.send("GET /ws HTTP/1.1\r\nHost: x\r\n")
        let started = Date()
        let client = try Fixture.client(gateway, "alice")
        #expect(client.ok("ping") != nil)
        #expect(silent.receiveAll().isEmpty, "closed without an answer")
        #expect(partial.receiveAll().isEmpty, "closed without an answer")
        let waited = Date().timeIntervalSince(started)
        #expect(waited > 1 && waited < 7, "closed after \(waited) s, the timeout is 2 s")
        #expect(client.ok("ping") != nil)
    }

    /// The process runs out of descriptors (its soft limit lowered under what
    /// it holds): connections wait in the backlog, and the gateway does not
    /// spin on the failing `accept` (lws's listener watcher is level-triggered)
    /// nor log every failure; the connected client is still served; with
    /// descriptors back, waiting and new connections are served.
    @Test func outOfDescriptorsTheListenerRestsInsteadOfSpinningAndRecovers() throws {
        try #require(ProcessProbe.canSetLimits, "needs util-linux's prlimit")
        let gateway = try Fixture.gateway()
        let client = try Fixture.client(gateway, "alice")
        let probe = ProcessProbe(pid: gateway.pid)
        let limit = try #require(probe.openFileLimit.soft)
        // Three descriptors to spare: the first connections take them, the others wait in the backlog.
        try probe.setOpenFileLimit(soft: probe.openDescriptors + 3)
        let waiting = try (0..<20).map { _ in try RawSocket(port: gateway.port, timeout: 10) }
        Thread.sleep(forTimeInterval: 0.2)

        let load = probe.cpuLoad(over: 2)
        #expect(load < 0.25, "CPU while accept fails: \(load) s/s (a spinning listener takes a full core)")
        #expect(client.ok("ping", timeout: 2) != nil, "the connected client is served")
        let failures = gateway.logs.components(separatedBy: "accept: errno").count - 1
        #expect(failures <= 2, "the failing accept is logged once per 10 s, not each time: \(failures) lines")

        try probe.setOpenFileLimit(soft: limit)
        for socket in waiting {
            try socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = try RawSocket.parse(socket.receiveAll())
            #expect(answer.status == 200, "a connection that waited in the backlog is served")
        }
        let late = try Fixture.client(gateway, "bob")
        #expect(late.ok("ping") != nil)
        let metrics = try RawSocket.http(port: gateway.port, path: "/metrics").body
        #expect(Self.value(metrics, "social_accept_rests_total") ?? 0 >= 1, "\(Self.socketLines(metrics))")
        #expect(gateway.stop() == 0)
    }

    /// Started under a soft open-file limit below its hard one, the gateway
    /// raises it; under a low hard limit it lowers `--max-connections` to fit,
    /// and a flood far beyond it never takes the process to its limit.
    @Test func theOpenFileLimitIsRaisedAndALowOneBoundsEverySocket() throws {
        let hard = try #require(ProcessProbe(pid: getpid()).openFileLimit.hard)
        try #require(hard >= 1024, "needs a hard open-file limit of at least 1024")
        let raised = try GatewayProcess.start(secret: Fixture.secret, openFiles: (soft: 256, hard: nil))
        #expect(ProcessProbe(pid: raised.pid).openFileLimit.soft == hard, "the soft limit is raised to the hard one")
        #expect(raised.stop() == 0)

        let low = try GatewayProcess.start(secret: Fixture.secret, arguments: ["--max-pending-handshakes", "1000"],
                                           openFiles: (soft: 256, hard: 256))
        #expect(low.logs.contains("--max-connections lowered to fit the open-file limit"))
        let probe = ProcessProbe(pid: low.pid)
        var held: [RawSocket] = []
        for _ in 0..<600 { held.append(try RawSocket(port: low.port, timeout: 2)) }
        #expect(probe.openDescriptors < 256, "\(probe.openDescriptors) descriptors open")
        // The flood sits in the kernel's accept queue: lws accepts it in one burst, and a
        // socket accepted while `maxEvicting` evictions are still closing is refused. The
        // probe comes once the burst is through (the node full of half-open sockets), as a
        // load balancer's next probe would; during the burst it may be refused (README,
        // "Failure modes": a full node).
        waitUntilDescriptorsSettle(probe)
        #expect(probe.openDescriptors < 256, "\(probe.openDescriptors) descriptors open")
        #expect(try RawSocket.http(port: low.port, path: "/healthz", timeout: 2).status == 200)
        #expect(!low.logs.contains("accept: errno"), "the caps keep accept from failing")
        withExtendedLifetime(held) {}
        #expect(low.stop() == 0)
    }

    // MARK: Helpers

    /// Waits (up to 5 s) until the process's open descriptors stay the same for 300 ms.
    func waitUntilDescriptorsSettle(_ probe: ProcessProbe) {
        let deadline = Date().addingTimeInterval(5)
        var last = probe.openDescriptors
        var stableSince = Date()
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            let now = probe.openDescriptors
            if now != last {
                last = now
                stableSince = Date()
            } else if Date().timeIntervalSince(stableSince) >= 0.3 {
                return
            }
        }
    }

    /// The value of a metric line `name value` (name with its labels, as exported).
    static func value(_ metrics: String, _ name: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    static func socketLines(_ metrics: String) -> String {
        metrics.split(separator: "\n").filter { $0.contains("social_sockets") || $0.contains("accept") }.joined(separator: "\n")
    }

    /// The flood needs a few thousand descriptors in this process.
    static func raiseOwnOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
