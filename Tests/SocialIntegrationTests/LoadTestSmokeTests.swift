import Foundation
import Testing
import SocialTesting

/// Short runs of the `social-loadtest` binary against a gateway: every
/// acknowledged message must reach every member exactly once and in order
/// (lost = duplicated = out of order = 0, delivered == expected). They check
/// correctness, not speed.
@Suite(.serialized) struct LoadTestSmokeTests {
    init() async throws { try await Fixture.prepare() }

    /// The built driver: `$SOCIAL_LOADTEST_BIN`, else beside the gateway binary.
    static var binary: String {
        ProcessInfo.processInfo.environment["SOCIAL_LOADTEST_BIN"]
            ?? URL(fileURLWithPath: GatewayProcess.binaryPath).deletingLastPathComponent().appendingPathComponent("social-loadtest").path
    }

    /// Runs one scenario against a fresh gateway and returns its JSON results and exit status.
    func run(_ scenario: String, _ arguments: [String], gateway gatewayArguments: [String] = []) throws
        -> (status: Int32, json: [String: Any], output: String) {
        let gateway = try Fixture.gateway(["--log-level", "warning"] + gatewayArguments)
        defer { gateway.stop() }
        let dir = RepoPaths.temporaryDirectory(prefix: "loadtest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [scenario, "--url", "ws://127.0.0.1:\(gateway.port)/ws", "--jwt-secret", Fixture.secret,
                             "--json", dir + "/r.json", "--html", dir + "/r.html", "--client-threads", "1"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) ?? Data("{}".utf8)
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let html = (try? String(contentsOfFile: dir + "/r.html", encoding: .utf8)) ?? ""
        #expect(html.contains("<svg") && !html.contains("<script"), "the HTML report has inline charts and no scripts")
        try? FileManager.default.removeItem(atPath: dir)
        return (process.terminationStatus, json, text)
    }

    func expectExactlyOnce(_ r: (status: Int32, json: [String: Any], output: String)) {
        #expect(r.status == 0, "\(r.output)")
        #expect(r.json["verified"] as? Bool == true)
        let expected = r.json["expected_deliveries"] as? Int ?? 0
        #expect(expected > 0, "the run delivered something")
        #expect(r.json["delivered"] as? Int == expected)
        for key in ["lost", "duplicated", "out_of_order", "gaps", "unanswered"] {
            #expect(r.json[key] as? Int == 0, "\(key)")
        }
    }

    @Test func chatDeliversEveryMessageOnceInOrder() throws {
        let r = try run("chat", ["--connections", "40", "--group-size", "5", "--rate", "60", "--duration", "3"])
        expectExactlyOnce(r)
        #expect(r.json["acked"] as? Int ?? 0 > 100)
    }

    @Test func churningClientsCatchUpWithSyncWithoutGaps() throws {
        let r = try run("churn", ["--connections", "30", "--group-size", "10", "--rate", "40", "--duration", "5",
                                  "--online-min", "0.5", "--online-max", "1.5", "--offline-min", "0.3", "--offline-max", "1"])
        expectExactlyOnce(r)
        #expect(r.json["reconnects"] as? Int ?? 0 > 0)
    }

    @Test func aReconnectStormResyncsEveryone() throws {
        let r = try run("reconnect-storm", ["--connections", "30", "--group-size", "10", "--rate", "40", "--duration", "4",
                                            "--connect-rate", "0"])
        expectExactlyOnce(r)
        #expect(r.json["storm_resync_seconds"] as? Double != nil)
    }

    @Test func botsPostIntoManyChatsAndEveryMemberGetsEachMessageOnceMarkedAsBot() throws {
        let r = try run("bots", ["--connections", "40", "--group-size", "5", "--bots", "4", "--bot-chats", "3",
                                 "--rate", "40", "--duration", "3"])
        expectExactlyOnce(r)
        #expect(r.json["wrong_sender_kind"] as? Int == 0)
        #expect(r.json["acked"] as? Int ?? 0 > 80)
        // 4 bots × 3 chats = 12 memberships over the 8 chats: every message reaches the 5 members of its chat.
        #expect(r.json["expected_deliveries"] as? Int == 5 * (r.json["acked"] as? Int ?? -1))
        #expect((r.json["plan"] as? [String: Any])?["botAccounts"] == nil, "the bots' secrets stay out of the report")
    }

    @Test func botsFailsWhenTheGatewaysBotLimitIsBelowTheOneGiven() throws {
        // 10 messages/s per bot is within the --bot-rate-limit given (30), not within the gateway's 2/s.
        let r = try run("bots", ["--connections", "20", "--group-size", "5", "--bots", "2", "--bot-chats", "2",
                                 "--rate", "20", "--duration", "2"], gateway: ["--rate-bot-messages", "2/s,burst=2"])
        #expect(r.status == 2, "\(r.output)")
        #expect(r.json["verified"] as? Bool == false)
        #expect((r.json["errors"] as? [String: Any])?["rate_limited"] as? Int ?? 0 > 0)
        #expect(r.output.contains("--rate-bot-messages is below --bot-rate-limit"), "\(r.output)")
    }

    @Test func botsRefusesARatePerBotAboveTheGatewaysLimit() throws {
        // Refused while checking the flags: no gateway needed, nothing created.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["bots", "--url", "ws://127.0.0.1:9/ws", "--jwt-secret", Fixture.secret, "--connections", "10",
                             "--group-size", "5", "--bots", "2", "--bot-chats", "1", "--rate", "100", "--duration", "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0 && process.terminationStatus != 2, "\(text)")
        #expect(text.contains("50.0 messages/s per bot") && text.contains("--bot-rate-limit"), "\(text)")
    }
}
