import Foundation
import Testing
import SocialTesting

/// Presence over several devices, as the users who may see it see it.
@Suite struct PresenceTests {
    init() async throws { try await Fixture.prepare() }

    @Test func watchersSeeOnlineTrainingAndOfflineAcrossDevices() throws {
        let gateway = try Fixture.gateway()
        let bob = try Fixture.client(gateway, "bob")
        let carol = try Fixture.client(gateway, "carol")
        let setup = try Fixture.client(gateway, "alice", device: "setup")
        let group = try #require((setup.ok("group.create", ["title": "Crew", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(bob.ok("group.join", ["group_id": group]) != nil)
        setup.close()
        #expect(setup.waitClosed() != nil)
        Thread.sleep(forTimeInterval: 0.2)

        // Bob may watch alice (a shared group), not carol.
        let watch = try #require(bob.ok("presence.subscribe", ["user_ids": ["alice", "carol"]]))
        #expect(watch["denied"] as? [String] == ["carol"])
        let initial = try #require((watch["presence"] as? [[String: Any]])?.first)
        #expect(initial["state"] as? String == "offline")
        #expect(initial["last_seen"] as? Int != nil)
        #expect((carol.ok("presence.query", ["user_ids": ["alice"]])?["denied"] as? [String]) == ["alice"])

        func next() -> [String: Any]? { bob.event("presence", timeout: 5)?["presence"] as? [String: Any] }

        let phone = try Fixture.client(gateway, "alice", device: "phone")
        #expect(next()?["state"] as? String == "online")
        let watchDevice = try Fixture.client(gateway, "alice", device: "watch")
        #expect(watchDevice.ok("presence.set", ["state": "training", "activity": "run"]) != nil)
        let training = next()
        #expect(training?["state"] as? String == "training")
        #expect(training?["activity"] as? String == "run")
        // The phone going away changes nothing others see while the watch trains.
        #expect((phone.ok("presence.set", ["state": "away"])?["presence"] as? [String: Any])?["state"] as? String == "training")
        watchDevice.close()
        #expect(next()?["state"] as? String == "away", "the phone is the only device left, and away")
        phone.close()
        let offline = next()
        #expect(offline?["state"] as? String == "offline")
        #expect((offline?["last_seen"] as? Int ?? 0) > 1_700_000_000_000)

        // Bad input gets clear errors.
        let bad = bob.command("presence.set", ["state": "asleep"])
        #expect((bad?["error"] as? [String: Any])?["code"] as? String == "invalid_args")
        #expect(bob.ok("presence.unsubscribe", ["user_ids": ["alice"]]) != nil)
        _ = try Fixture.client(gateway, "alice", device: "tablet")
        #expect(bob.event("presence", timeout: 1) == nil, "no events after unsubscribing")
    }

    @Test func connectedUsersStayOnlinePastThePresenceTTL() throws {
        let gateway = try Fixture.gateway(["--presence-ttl", "3"])
        let setup = try Fixture.client(gateway, "dana")
        let group = try #require((setup.ok("group.create", ["title": "Pairs"])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(setup.ok("group.invite", ["group_id": group, "user_id": "eli"]) != nil)
        let eli = try Fixture.client(gateway, "eli")
        #expect(eli.ok("group.join", ["group_id": group]) != nil)
        #expect(eli.ok("presence.subscribe", ["user_ids": ["dana"]]) != nil)
        // Heartbeats every second keep dana's entry alive well past its 3 s TTL.
        Thread.sleep(forTimeInterval: 6)
        #expect(eli.event("presence", timeout: 0.1) == nil, "no offline flap while connected")
        let now = try #require((eli.ok("presence.query", ["user_ids": ["dana"]])?["presence"] as? [[String: Any]])?.first)
        #expect(now["state"] as? String == "online")
    }
}
