import Foundation
import Testing
import SocialLWS
import SocialTesting

/// The backend API across nodes sharing Redis and the MongoDB-wire server:
/// a force-disconnect taken by one node closes the user's sessions on every
/// node; a bot made on one node connects to another after its refresh, and
/// disabling it closes it there at once and refuses it there afterwards.
@Suite(.serialized) struct DistributedAPITests {
    init() async throws { try await Fixture.prepare() }

    @Test func forceDisconnectThroughOneNodeClosesTheUsersSessionsOnEveryNode() throws {
        let cluster = try Cluster(nodes: 2)
        let onA = try Fixture.client(cluster.nodes[0], "alice", device: "phone")
        let onB = try Fixture.client(cluster.nodes[1], "alice", device: "laptop")
        let bobOnB = try Fixture.client(cluster.nodes[1], "bob")
        let api = APIClient(port: cluster.nodes[0].port,
                            token: Fixture.minter.token(user: "svc-ops", extra: ["scope": "social:admin"]))
        let response = try api.call("POST", "/api/v1/users/alice/disconnect", json: ["reason": "logged out everywhere"])
        #expect(response.status == 202, "\(response.body)")
        #expect(onA.waitClosed()?.code == 4003)
        let remote = onB.waitClosed()
        #expect(remote?.code == 4003, "node B log:\n\(cluster.nodes[1].logs.suffix(1500))")
        #expect(remote?.reason == "logged out everywhere")
        #expect(bobOnB.ok("ping") != nil)
    }

    @Test func aBotMadeOnOneNodeWorksOnAnotherAndIsDisabledEverywhere() throws {
        let cluster = try Cluster(nodes: 2, extra: ["--bot-refresh-seconds", "1"])
        let (botId, secret) = try BotAccountTests.createBot(cluster.nodes[0])
        // Node B learns of the bot at its next refresh (within a second, plus a loaded machine's slack).
        var status: Int?
        let deadline = Date().addingTimeInterval(15)
        repeat {
            status = BotAccountTests.refusedStatus(cluster.nodes[1], botId, secret)
            if status != 101 { Thread.sleep(forTimeInterval: 0.2) }
        } while status != 101 && Date() < deadline
        #expect(status == 101, "node B never accepted the bot")

        let alice = try Fixture.client(cluster.nodes[0], "alice")
        let group = try #require(alice.ok("group.create", ["title": "Across"])?["group"] as? [String: Any])
        let groupId = try #require(group["group_id"] as? String)
        #expect(alice.ok("group.invite", ["group_id": groupId, "user_id": botId]) != nil)
        let bot = try BotAccountTests.connectBot(cluster.nodes[1], botId, secret)
        #expect(bot.ok("group.join", ["group_id": groupId]) != nil)
        #expect(bot.ok("chat.send", ["chat_id": groupId, "text": "from node B"]) != nil)
        let pushed = try #require(alice.event("message.new") { (($0["message"] as? [String: Any])?["text"] as? String) == "from node B" })
        #expect((pushed["message"] as? [String: Any])?["sender_kind"] as? String == "bot")

        let disabled = try BotAccountTests.admin(cluster.nodes[0]).call("POST", "/api/v1/bots/\(botId)/disable")
        #expect(disabled.status == 200)
        #expect(bot.waitClosed()?.code == 4003, "the live session on node B closes at once")
        var refused = false
        let refusedBy = Date().addingTimeInterval(15)
        repeat {
            refused = BotAccountTests.refusedStatus(cluster.nodes[1], botId, secret) == 401
            if !refused { Thread.sleep(forTimeInterval: 0.2) }
        } while !refused && Date() < refusedBy
        #expect(refused, "node B refuses the disabled bot after its refresh")
    }

    @Test func aCallStuckOnTheDatabaseIsAnswered504ThenTheNodeRecovers() throws {
        let cluster = try Cluster(nodes: 1, extra: ["--api-timeout-ms", "300", "--mongo-timeout-ms", "5000"])
        let admin = BotAccountTests.admin(cluster.nodes[0])
        #expect(try admin.call("GET", "/api/v1/bots").status == 200)
        cluster.mongo.stop()
        let stuck = try admin.call("GET", "/api/v1/bots", timeout: 20)
        #expect(stuck.status == 504, "\(stuck.body)")
        #expect(stuck.headers["content-type"] == "application/problem+json")
        #expect(try RawSocket.http(port: cluster.nodes[0].port, path: "/healthz").status == 200)
    }
}
