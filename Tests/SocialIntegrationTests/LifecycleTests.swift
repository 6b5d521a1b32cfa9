import Foundation
import Testing
import SocialTesting

/// The gateway process's life: drain on SIGTERM, restart after SIGKILL, token expiry.
@Suite struct LifecycleTests {
    init() async throws { try await Fixture.prepare() }

    @Test func sigtermFinishesInFlightCommandsClosesWith1001AndExits0() throws {
        let gateway = try Fixture.gateway(["--drain-timeout", "10"])
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let chat = try #require((alice.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String)
        #expect(try RawSocket.http(port: gateway.port, path: "/readyz").status == 200)

        // A burst of sends, then SIGTERM while they are in flight.
        for i in 0..<40 {
            alice.send(#"{"id":\#(1000 + i),"op":"chat.send","args":{"chat_id":"\#(chat)","text":"lap \#(i)","client_msg_id":"drain-\#(i)"}}"#)
        }
        kill(gateway.pid, SIGTERM)

        // Every command gets its reply: stored (ok) or refused as the node drains, never silence.
        var acknowledged: Set<String> = []
        for i in 0..<40 {
            let reply = try #require(alice.next(timeout: 10) { ($0["id"] as? Int) == 1000 + i }, "reply \(i)")
            if reply["ok"] != nil {
                acknowledged.insert("drain-\(i)")
            } else {
                #expect((reply["error"] as? [String: Any])?["code"] as? String == "shutting_down")
            }
        }
        #expect(alice.waitClosed(timeout: 15)?.code == 1001)
        #expect(bob.waitClosed(timeout: 15)?.code == 1001)
        #expect(gateway.stop(timeout: 20) == 0, "exit status 0:\n\(gateway.logs)")
        #expect(gateway.terminationReason == .exit)

        // Whatever was acknowledged is stored.
        let restarted = try Fixture.gateway(dataDir: gateway.dataDir)
        let reader = try Fixture.client(restarted, "bob")
        let history = try #require(reader.ok("chat.history", ["chat_id": chat, "limit": 100])?["messages"] as? [[String: Any]])
        let stored = Set(history.compactMap { $0["client_msg_id"] as? String })
        #expect(acknowledged.isSubset(of: stored))
    }

    /// With room for two closing at once, a drain of twelve sessions closes
    /// them a few at a time as the first ones finish: every one gets 1001,
    /// well before the drain's deadline, and the process exits 0.
    @Test func aDrainWithLittleRoomClosesEverySessionWith1001() throws {
        let gateway = try Fixture.gateway(["--drain-timeout", "30", "--drain-max-closing", "2"])
        let clients = try (0..<12).map { try Fixture.client(gateway, "user\($0)") }
        let started = Date()
        kill(gateway.pid, SIGTERM)
        for (index, client) in clients.enumerated() {
            #expect(client.waitClosed(timeout: 20)?.code == 1001, "client \(index)")
        }
        #expect(Date().timeIntervalSince(started) < 20, "closed as room freed, not at the 30 s deadline")
        #expect(gateway.stop(timeout: 20) == 0, "exit status 0:\n\(gateway.logs)")
    }

    @Test func aDrainingNodeRefusesNewConnectionsAndReportsNotReady() throws {
        let gateway = try Fixture.gateway(["--drain-timeout", "3"])
        let alice = try Fixture.client(gateway, "alice")
        // A chatty client keeps its session from going quiet, so the drain lasts until its deadline.
        let chatter = Thread {
            for i in 0..<60 where !alice.isClosed {
                alice.send(#"{"id":\#(i),"op":"ping"}"#)
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        chatter.start()
        Thread.sleep(forTimeInterval: 0.3)
        kill(gateway.pid, SIGTERM)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(gateway.isRunning, "still draining")
        #expect(try RawSocket.http(port: gateway.port, path: "/readyz").status == 503)
        #expect(try RawSocket.http(port: gateway.port, path: "/healthz").status == 200)
        #expect(throws: (any Error).self) {
            _ = try TestClient.connect(Fixture.loop, port: gateway.port, token: Fixture.token("bob"), timeout: 3)
        }
        #expect(alice.waitClosed(timeout: 10)?.code == 1001)
        #expect(gateway.stop() == 0)
    }

    @Test func aRestartAfterSIGKILLLosesNothingAcknowledged() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Marathon block"])?["group"] as? [String: Any])?["group_id"] as? String)
        // Several connections pipelining sends; SIGKILL once 150 acknowledgements are in.
        let writers = try (0..<4).map { try Fixture.client(gateway, "alice", device: "d\($0)") }
        let lock = NSLock()
        nonisolated(unsafe) var acknowledged: [String: Int] = [:]  // guarded by `lock`
        let group0 = DispatchGroup()
        for (w, writer) in writers.enumerated() {
            DispatchQueue.global().async(group: group0) {
                for i in 0..<100 {
                    let id = "k\(w)-\(i)"
                    guard let reply = writer.command("chat.send", ["chat_id": group, "text": "rep \(i)", "client_msg_id": id], timeout: 5),
                          let seq = (reply["ok"] as? [String: Any]).flatMap({ ($0["message"] as? [String: Any])?["seq"] as? Int })
                    else { return }
                    lock.lock()
                    acknowledged[id] = seq
                    let count = acknowledged.count
                    lock.unlock()
                    if count == 150 { gateway.kill() }
                }
            }
        }
        group0.wait()
        #expect(!gateway.isRunning)
        #expect(acknowledged.count >= 150)

        let restarted = try Fixture.gateway(dataDir: gateway.dataDir)
        let reader = try Fixture.client(restarted, "alice")
        var stored: [String: Int] = [:]
        var seqs: [Int] = []
        var after = 0
        while true {
            let page = try #require(reader.ok("chat.history", ["chat_id": group, "after": after, "limit": 100]))
            let messages = page["messages"] as? [[String: Any]] ?? []
            for m in messages {
                seqs.append(m["seq"] as! Int)
                if let id = m["client_msg_id"] as? String { stored[id] = m["seq"] as? Int }
            }
            guard page["more"] as? Bool == true, let last = seqs.last else { break }
            after = last
        }
        for (id, seq) in acknowledged {
            #expect(stored[id] == seq, "acknowledged \(id) at seq \(seq) survives SIGKILL")
        }
        #expect(seqs == Array(1...(seqs.count)), "gap-free after restart")
        // The chat continues from where it was.
        let next = try #require(reader.ok("chat.send", ["chat_id": group, "text": "after the crash"]))
        #expect((next["message"] as? [String: Any])?["seq"] as? Int == seqs.count + 1)
    }

    @Test func aSessionClosesWith1008WhenItsTokenExpires() throws {
        let gateway = try Fixture.gateway(["--jwt-leeway", "0"])
        let token = Fixture.minter.token(user: "alice", ttl: 2)
        let client = try TestClient.connect(Fixture.loop, port: gateway.port, token: token)
        #expect(client.ok("ping") != nil)
        let closed = client.waitClosed(timeout: 6)
        #expect(closed?.code == 1008)
    }
}
