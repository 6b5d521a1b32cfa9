import Foundation
import Testing
import SocialTesting

/// Groups and chats end to end: several users with several devices each, over
/// real sockets, against a gateway on its embedded store.
@Suite struct ChatFlowTests {
    init() async throws { try await Fixture.prepare() }

    @Test func everyDeviceOfEveryMemberReceivesEveryEvent() throws {
        let gateway = try Fixture.gateway(["--typing-interval-ms", "0"])
        let alicePhone = try Fixture.client(gateway, "alice", device: "phone")
        let aliceWatch = try Fixture.client(gateway, "alice", device: "watch")
        let bob = try Fixture.client(gateway, "bob")
        let carol = try Fixture.client(gateway, "carol")

        let group = try #require(alicePhone.ok("group.create", ["title": "Sunday long run", "open": true])?["group"] as? [String: Any])
        let groupId = try #require(group["group_id"] as? String)
        #expect(aliceWatch.event("chat.added") != nil, "the owner's other device learns of the new group")
        #expect(bob.ok("group.join", ["group_id": groupId]) != nil)
        #expect(bob.event("chat.added") != nil)
        #expect(alicePhone.event("member") { ($0["message"] as? [String: Any])?["sender"] as? String == "bob" } != nil)

        let sent = try #require(alicePhone.ok("chat.send", ["chat_id": groupId, "text": "Meet at the bridge", "client_msg_id": "m-1"]))
        let seq = try #require((sent["message"] as? [String: Any])?["seq"] as? Int)
        for (name, client) in [("alice watch", aliceWatch), ("bob", bob), ("alice phone", alicePhone)] {
            let event = client.event("message.new") { ($0["message"] as? [String: Any])?["seq"] as? Int == seq }
            #expect(event != nil, "\(name) gets message.new")
        }
        #expect(bob.ok("chat.typing", ["chat_id": groupId])?["throttled"] as? Bool == false)
        #expect(aliceWatch.event("typing") { $0["user_id"] as? String == "bob" } != nil)
        #expect(bob.ok("chat.react", ["chat_id": groupId, "seq": seq, "emoji": "👏"]) != nil)
        let reaction = aliceWatch.event("reaction")
        #expect((reaction?["message"] as? [String: Any])?["reactions"] as? [String: Int] == ["👏": 1])
        #expect(bob.ok("chat.read", ["chat_id": groupId, "seq": seq]) != nil)
        #expect(alicePhone.event("read") { $0["user_id"] as? String == "bob" } != nil)
        #expect(alicePhone.ok("chat.edit", ["chat_id": groupId, "seq": seq, "text": "Meet at the old bridge"]) != nil)
        #expect(bob.event("message.edited") != nil)
        #expect(alicePhone.ok("chat.delete", ["chat_id": groupId, "seq": seq]) != nil)
        #expect((bob.event("message.deleted")?["message"] as? [String: Any])?["deleted"] as? Bool == true)
        // A non-member hears nothing of it.
        #expect(carol.next(timeout: 0.5) == nil)

        // Direct chats: both users get the same chat, and its events.
        let direct = try #require(bob.ok("chat.open_direct", ["user_id": "carol"])?["chat"] as? [String: Any])
        let again = try #require(carol.ok("chat.open_direct", ["user_id": "bob"]))
        #expect((again["chat"] as? [String: Any])?["chat_id"] as? String == direct["chat_id"] as? String)
        #expect(again["created"] as? Bool == false)
        #expect(bob.ok("chat.send", ["chat_id": direct["chat_id"]!, "text": "nice pace today"]) != nil)
        #expect(carol.event("message.new") != nil)
    }

    @Test func permissionsAreEnforced() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let carol = try Fixture.client(gateway, "carol")
        func code(_ reply: [String: Any]?) -> String? { (reply?["error"] as? [String: Any])?["code"] as? String }

        let closed = try #require((alice.ok("group.create", ["title": "Coaches"])?["group"] as? [String: Any])?["group_id"] as? String)
        #expect(code(bob.command("group.join", ["group_id": closed])) == "forbidden", "invite-only")
        #expect(code(bob.command("chat.send", ["chat_id": closed, "text": "hi"])) == "forbidden", "non-member writes")
        #expect(code(bob.command("chat.history", ["chat_id": closed])) == "forbidden", "non-member reads")
        #expect(alice.ok("group.invite", ["group_id": closed, "user_id": "bob"]) != nil)
        #expect(bob.event("invitation") != nil)
        #expect(bob.ok("group.join", ["group_id": closed]) != nil)
        #expect(code(bob.command("group.invite", ["group_id": closed, "user_id": "carol"])) == "forbidden", "members don't invite")
        #expect(code(bob.command("group.kick", ["group_id": closed, "user_id": "alice"])) == "forbidden", "nobody kicks the owner")
        let sent = try #require((alice.ok("chat.send", ["chat_id": closed, "text": "plan for week 3"])?["message"] as? [String: Any])?["seq"] as? Int)
        #expect(code(bob.command("chat.edit", ["chat_id": closed, "seq": sent, "text": "mine now"])) == "forbidden", "only the author edits")
        #expect(code(bob.command("chat.delete", ["chat_id": closed, "seq": sent])) == "forbidden", "members delete only their own")
        #expect(code(bob.command("group.rename", ["group_id": closed, "title": "Bob's group"])) == "forbidden")
        #expect(alice.ok("group.set_role", ["group_id": closed, "user_id": "bob", "role": "admin"]) != nil)
        #expect(bob.ok("group.invite", ["group_id": closed, "user_id": "carol"]) != nil, "admins invite")
        #expect(carol.ok("group.join", ["group_id": closed]) != nil)
        #expect(code(carol.command("group.kick", ["group_id": closed, "user_id": "bob"])) == "forbidden")
        #expect(bob.ok("group.kick", ["group_id": closed, "user_id": "carol"]) != nil)
        #expect(carol.event("chat.removed") != nil)
        #expect(code(carol.command("chat.send", ["chat_id": closed, "text": "still here?"])) == "forbidden", "kicked")
        #expect(code(alice.command("group.leave", ["group_id": closed])) == "conflict", "the owner transfers first")
    }

    @Test func aRetriedSendIsStoredAndDeliveredOnce() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let chat = try #require((alice.ok("chat.open_direct", ["user_id": "bob"])?["chat"] as? [String: Any])?["chat_id"] as? String)
        _ = bob.event("chat.added")
        let first = try #require(alice.ok("chat.send", ["chat_id": chat, "text": "10k PB!", "client_msg_id": "retry-1"]))
        #expect(first["duplicate"] as? Bool == false)
        // The phone lost the reply, reconnected from another network, and retried.
        alice.close()
        let again = try Fixture.client(gateway, "alice")
        let retry = try #require(again.ok("chat.send", ["chat_id": chat, "text": "10k PB!", "client_msg_id": "retry-1"]))
        #expect(retry["duplicate"] as? Bool == true)
        #expect((retry["message"] as? [String: Any])?["seq"] as? Int == (first["message"] as? [String: Any])?["seq"] as? Int)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(bob.drainEvents("message.new").count == 1, "delivered once")
        let history = try #require(bob.ok("chat.history", ["chat_id": chat])?["messages"] as? [[String: Any]])
        #expect(history.filter { $0["client_msg_id"] as? String == "retry-1" }.count == 1, "stored once")
    }
}

/// Concurrent writers into one chat: every member receives the chat's events
/// in position order, gap-free, even though commands finish concurrently.
@Suite struct ChatOrderingTests {
    init() async throws { try await Fixture.prepare() }

    @Test func concurrentSendsReachReceiversInPositionOrder() throws {
        let gateway = try Fixture.gateway()
        let owner = try Fixture.client(gateway, "owner")
        let group = try #require((owner.ok("group.create", ["title": "Peloton", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        let writers = try (0..<6).map { i in
            let client = try Fixture.client(gateway, "rider\(i)")
            #expect(client.ok("group.join", ["group_id": group]) != nil)
            return client
        }
        let reader = try Fixture.client(gateway, "reader")
        #expect(reader.ok("group.join", ["group_id": group]) != nil)
        DispatchQueue.concurrentPerform(iterations: writers.count) { w in
            for i in 0..<40 { _ = writers[w].ok("chat.send", ["chat_id": group, "text": "\(w).\(i)"]) }
        }
        var positions: [Int] = []
        while let event = reader.event("message.new", timeout: 2) {
            positions.append((event["message"] as? [String: Any])?["updated_seq"] as? Int ?? -1)
            if positions.count == 240 { break }
        }
        #expect(positions.count == 240)
        #expect(positions == positions.sorted(), "in position order")
        #expect(Set(zip(positions, positions.dropFirst()).map { $1 - $0 }) == [1], "gap-free")
    }
}
