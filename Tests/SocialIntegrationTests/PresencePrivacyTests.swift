import Foundation
import Testing
import SocialTesting

/// Presence watches end when two users stop sharing a chat, both ways and on
/// every node: two gateway processes on Redis and the MongoDB-wire server,
/// real sockets.
@Suite(.serialized) struct PresencePrivacyTests {
    init() async throws { try await Fixture.prepare() }

    /// Makes a group of `owner`'s, open, that `members` join.
    static func group(_ owner: TestClient, _ members: [TestClient], title: String) throws -> String {
        let group = try #require((owner.ok("group.create", ["title": title, "open": true], timeout: 20)?["group"]
            as? [String: Any])?["group_id"] as? String)
        for member in members { #expect(member.ok("group.join", ["group_id": group], timeout: 20) != nil) }
        return group
    }

    /// Watches `users`; returns who was denied.
    static func watch(_ client: TestClient, _ users: [String]) throws -> [String] {
        let reply = try #require(client.ok("presence.subscribe", ["user_ids": users], timeout: 20))
        return reply["denied"] as? [String] ?? []
    }

    static func revoked(_ client: TestClient, timeout: Double = 10) -> (users: [String], reason: String)? {
        client.event("presence.revoked", timeout: timeout).map {
            (($0["user_ids"] as? [String]) ?? [], ($0["reason"] as? String) ?? "")
        }
    }

    /// The next `presence` event about `user` within `timeout`.
    static func presence(_ client: TestClient, of user: String, timeout: Double) -> [String: Any]? {
        client.event("presence", timeout: timeout) { ($0["presence"] as? [String: Any])?["user_id"] as? String == user }
    }

    @Test func aLeaveEndsTheWatchesBothWaysAcrossNodes() throws {
        let cluster = try Cluster(nodes: 2)
        let ann = try Fixture.client(cluster.nodes[0], "ann")
        let bob = try Fixture.client(cluster.nodes[1], "bob")
        let group = try Self.group(ann, [bob], title: "Sunday long run")
        #expect(try Self.watch(ann, ["bob"]) == [])
        #expect(try Self.watch(bob, ["ann"]) == [])
        #expect(bob.ok("presence.set", ["state": "away"]) != nil)
        #expect(Self.presence(ann, of: "bob", timeout: 10)?["presence"] != nil, "the watch works across nodes")

        #expect(bob.ok("group.leave", ["group_id": group], timeout: 20) != nil)
        let annSees = Self.revoked(ann)
        #expect(annSees?.users == ["bob"], "ann (node 1) stops watching bob")
        #expect(annSees?.reason == "no_shared_chat")
        let bobSees = Self.revoked(bob)
        #expect(bobSees?.users == ["ann"], "bob (node 2) stops watching ann")

        // No presence crosses any more, either way.
        _ = ann.drainEvents("presence")
        _ = bob.drainEvents("presence")
        #expect(bob.ok("presence.set", ["state": "training", "activity": "run"]) != nil)
        #expect(ann.ok("presence.set", ["state": "away"]) != nil)
        #expect(Self.presence(ann, of: "bob", timeout: 2) == nil, "ann no longer sees bob's presence")
        #expect(Self.presence(bob, of: "ann", timeout: 1) == nil, "bob no longer sees ann's presence")
        #expect(try Self.watch(ann, ["bob"]) == ["bob"], "watching again is denied")
    }

    @Test func aKickEndsOnlyTheWatchesThatNoOtherChatAllows() throws {
        let cluster = try Cluster(nodes: 2)
        let ann = try Fixture.client(cluster.nodes[0], "ann")
        let cat = try Fixture.client(cluster.nodes[0], "cat")
        let bob = try Fixture.client(cluster.nodes[1], "bob")
        let club = try Self.group(ann, [bob, cat], title: "Club")
        _ = try Self.group(ann, [bob], title: "Coaching")   // ann and bob share a second chat
        #expect(try Self.watch(ann, ["bob"]) == [])
        #expect(try Self.watch(cat, ["bob"]) == [])
        #expect(try Self.watch(bob, ["ann", "cat"]) == [])

        #expect(ann.ok("group.kick", ["group_id": club, "user_id": "bob"], timeout: 20) != nil)
        #expect(Self.revoked(cat)?.users == ["bob"], "cat shared only the club with bob")
        #expect(Self.revoked(bob)?.users == ["cat"], "bob keeps ann: they still share the coaching group")

        _ = ann.drainEvents("presence")
        #expect(bob.ok("presence.set", ["state": "away"]) != nil)
        #expect(Self.presence(ann, of: "bob", timeout: 10) != nil, "ann still sees bob")
        #expect(Self.revoked(ann, timeout: 1) == nil, "nothing of ann's was revoked")
        #expect(Self.presence(cat, of: "bob", timeout: 1) == nil, "cat does not")
    }
}
