import Foundation
import Testing
import SocialLWS
import SocialTesting

/// Bot accounts end to end over real sockets: a backend creates a bot through
/// the API, the bot connects with its secret, joins a group it was invited to
/// and posts; members see `sender_kind: "bot"`. Rotation and disabling refuse
/// the old credential; a bot is held to its scopes and its chat limit.
@Suite struct BotAccountTests {
    init() async throws { try await Fixture.prepare() }

    static func admin(_ gateway: GatewayProcess) -> APIClient {
        APIClient(port: gateway.port, token: Fixture.minter.token(user: "svc-ops", extra: ["scope": "social:admin"]))
    }

    /// Creates a bot; returns its id and secret.
    static func createBot(_ gateway: GatewayProcess, name: String = "Coach", scopes: [String]? = nil) throws -> (String, String) {
        var body: [String: Any] = ["name": name]
        if let scopes { body["scopes"] = scopes }
        let response = try admin(gateway).call("POST", "/api/v1/bots", json: body)
        guard response.status == 201, let json = response.json, let bot = json["bot"] as? [String: Any],
              let id = bot["id"] as? String, let secret = json["secret"] as? String else {
            throw MinterError("bot creation failed: \(response.status) \(response.body)")
        }
        return (id, secret)
    }

    static func connectBot(_ gateway: GatewayProcess, _ id: String, _ secret: String) throws -> TestClient {
        let client = try TestClient.connect(Fixture.loop, port: gateway.port, token: nil,
                                            headers: [("Authorization", "Bot \(id):\(secret)")])
        guard client.event("hello") != nil else { throw MinterError("no hello for the bot") }
        return client
    }

    static func refusedStatus(_ gateway: GatewayProcess, _ id: String, _ secret: String) -> Int? {
        do {
            let client = try connectBot(gateway, id, secret)
            client.close()
            return 101
        } catch let error as TestClient.ConnectError {
            return error.httpStatus
        } catch {
            return nil
        }
    }

    @Test func aBotCreatedThroughTheAPIPostsIntoAGroupAsABot() throws {
        let gateway = try Fixture.gateway()
        let (botId, secret) = try Self.createBot(gateway)
        #expect(botId.hasPrefix("bot_"))

        let alice = try Fixture.client(gateway, "alice")
        let group = try #require(alice.ok("group.create", ["title": "Run club"])?["group"] as? [String: Any])
        let groupId = try #require(group["group_id"] as? String)
        #expect(alice.ok("group.invite", ["group_id": groupId, "user_id": botId]) != nil)

        let bot = try Self.connectBot(gateway, botId, secret)
        #expect(bot.ok("group.join", ["group_id": groupId]) != nil, "\(String(describing: bot.command("ping")))")
        let sent = try #require(bot.ok("chat.send", ["chat_id": groupId, "text": "Today: 5 × 1 km"]))
        #expect((sent["message"] as? [String: Any])?["sender_kind"] as? String == "bot")

        let pushed = try #require(alice.event("message.new") { (($0["message"] as? [String: Any])?["text"] as? String) == "Today: 5 × 1 km" })
        let message = try #require(pushed["message"] as? [String: Any])
        #expect(message["sender"] as? String == botId)
        #expect(message["sender_kind"] as? String == "bot")

        // Stored as a bot message: history says so too.
        let history = try #require(alice.ok("chat.history", ["chat_id": groupId]))
        let stored = (history["messages"] as? [[String: Any]])?.first { $0["text"] as? String == "Today: 5 × 1 km" }
        #expect(stored?["sender"] as? String == botId)
        #expect(stored?["sender_kind"] as? String == "bot")

        // Ops outside its scopes are refused.
        let create = try #require(bot.command("group.create", ["title": "mine"]))
        #expect((create["error"] as? [String: Any])?["code"] as? String == "forbidden")
        let edit = try #require(bot.command("chat.edit", ["chat_id": groupId, "seq": 1, "text": "x"]))
        #expect((edit["error"] as? [String: Any])?["code"] as? String == "forbidden")
    }

    @Test func aBotWithoutTheSendScopeCannotPostAndJoinsOnlyWhenInvited() throws {
        let gateway = try Fixture.gateway()
        let (botId, secret) = try Self.createBot(gateway, scopes: ["chat:read"])
        let alice = try Fixture.client(gateway, "alice")
        let open = try #require(alice.ok("group.create", ["title": "Open", "open": true])?["group"] as? [String: Any])
        let openId = try #require(open["group_id"] as? String)
        let bot = try Self.connectBot(gateway, botId, secret)
        let join = try #require(bot.command("group.join", ["group_id": openId]))
        #expect((join["error"] as? [String: Any])?["code"] as? String == "forbidden", "a bot needs an invitation")
        #expect(alice.ok("group.invite", ["group_id": openId, "user_id": botId]) != nil)
        #expect(bot.ok("group.join", ["group_id": openId]) != nil)
        let send = try #require(bot.command("chat.send", ["chat_id": openId, "text": "hi"]))
        #expect((send["error"] as? [String: Any])?["code"] as? String == "forbidden")
        #expect(bot.ok("chat.history", ["chat_id": openId]) != nil)
    }

    @Test func aBotJoinsAtMostBotMaxChats() throws {
        let gateway = try Fixture.gateway(["--bot-max-chats", "1"])
        let (botId, secret) = try Self.createBot(gateway)
        let alice = try Fixture.client(gateway, "alice")
        var groups: [String] = []
        for title in ["one", "two"] {
            let group = try #require(alice.ok("group.create", ["title": title])?["group"] as? [String: Any])
            let id = try #require(group["group_id"] as? String)
            #expect(alice.ok("group.invite", ["group_id": id, "user_id": botId]) != nil)
            groups.append(id)
        }
        let bot = try Self.connectBot(gateway, botId, secret)
        #expect(bot.ok("group.join", ["group_id": groups[0]]) != nil)
        let second = try #require(bot.command("group.join", ["group_id": groups[1]]))
        let error = try #require(second["error"] as? [String: Any])
        #expect(error["code"] as? String == "conflict")
        #expect((error["message"] as? String)?.contains("--bot-max-chats") == true)
    }

    @Test func rotatingTheSecretRefusesTheOldOneAndDisablingRefusesTheBot() throws {
        let gateway = try Fixture.gateway()
        let (botId, oldSecret) = try Self.createBot(gateway)
        let live = try Self.connectBot(gateway, botId, oldSecret)

        let rotated = try Self.admin(gateway).call("POST", "/api/v1/bots/\(botId)/secret")
        #expect(rotated.status == 200, "\(rotated.body)")
        let newSecret = try #require(rotated.json?["secret"] as? String)
        #expect(newSecret != oldSecret)
        #expect(live.waitClosed()?.code == 4003, "a live session of the old secret is closed")
        #expect(Self.refusedStatus(gateway, botId, oldSecret) == 401)
        #expect(Self.refusedStatus(gateway, botId, newSecret) == 101)
        #expect(Self.refusedStatus(gateway, botId, "bs_guess") == 401)
        #expect(Self.refusedStatus(gateway, "bot_nobody", newSecret) == 401)

        let again = try Self.connectBot(gateway, botId, newSecret)
        let disabled = try Self.admin(gateway).call("POST", "/api/v1/bots/\(botId)/disable")
        #expect(disabled.status == 200)
        #expect((disabled.json?["bot"] as? [String: Any])?["disabled"] as? Bool == true)
        #expect(again.waitClosed()?.code == 4003)
        #expect(Self.refusedStatus(gateway, botId, newSecret) == 401)

        // The list shows it disabled, and never a secret or its hash.
        let list = try Self.admin(gateway).call("GET", "/api/v1/bots")
        let bots = try #require(list.json?["bots"] as? [[String: Any]])
        #expect(bots.first { $0["id"] as? String == botId }?["disabled"] as? Bool == true)
        #expect(!list.body.contains(newSecret))
        #expect(!list.body.contains("hash"))
        #expect(try Self.admin(gateway).call("POST", "/api/v1/bots/\(botId)/secret").status == 409)
        #expect(try Self.admin(gateway).call("GET", "/api/v1/bots/bot_nobody").status == 404)
    }

    @Test func botsSurviveARestartOfTheEmbeddedStore() throws {
        let dataDir = RepoPaths.temporaryDirectory(prefix: "bots-restart")
        let port = RawSocket.freePort()
        var gateway = try Fixture.gateway(dataDir: dataDir, port: port)
        let (botId, secret) = try Self.createBot(gateway)
        _ = gateway.stop()
        gateway = try Fixture.gateway(dataDir: dataDir, port: port)
        #expect(Self.refusedStatus(gateway, botId, secret) == 101)
    }

    @Test func aBackendPostsAsTheSystemOrAsAMemberBot() throws {
        let gateway = try Fixture.gateway()
        let (botId, secret) = try Self.createBot(gateway)
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require(alice.ok("group.create", ["title": "Club"])?["group"] as? [String: Any])
        let groupId = try #require(group["group_id"] as? String)
        let poster = APIClient(port: gateway.port, token: Fixture.minter.token(user: "svc-training", extra: ["scope": "social:post"]))

        let system = try poster.call("POST", "/api/v1/chats/\(groupId)/messages",
                                     json: ["text": "Race day moved to Sunday", "client_msg_id": "announce-1"])
        #expect(system.status == 201, "\(system.body)")
        let pushed = try #require(alice.event("message.new") { (($0["message"] as? [String: Any])?["text"] as? String) == "Race day moved to Sunday" })
        #expect((pushed["message"] as? [String: Any])?["sender_kind"] as? String == "system")
        // A retry is stored once.
        let retry = try poster.call("POST", "/api/v1/chats/\(groupId)/messages",
                                    json: ["text": "Race day moved to Sunday", "client_msg_id": "announce-1"])
        #expect(retry.status == 200)
        #expect(retry.json?["duplicate"] as? Bool == true)

        // As a bot that is not a member: refused; once it joined: posted as the bot.
        let notMember = try poster.call("POST", "/api/v1/chats/\(groupId)/messages", json: ["bot_id": botId, "text": "hi"])
        #expect(notMember.status == 403, "\(notMember.body)")
        #expect(alice.ok("group.invite", ["group_id": groupId, "user_id": botId]) != nil)
        let bot = try Self.connectBot(gateway, botId, secret)
        #expect(bot.ok("group.join", ["group_id": groupId]) != nil)
        let asBot = try poster.call("POST", "/api/v1/chats/\(groupId)/messages", json: ["bot_id": botId, "text": "Coach here"])
        #expect(asBot.status == 201, "\(asBot.body)")
        #expect((asBot.json?["message"] as? [String: Any])?["sender_kind"] as? String == "bot")

        #expect(try poster.call("POST", "/api/v1/chats/g_nope/messages", json: ["text": "x"]).status == 404)
        #expect(try poster.call("POST", "/api/v1/chats/\(groupId)/messages", json: ["bot_id": "bot_nope", "text": "x"]).status == 422)
        #expect(try poster.call("POST", "/api/v1/chats/\(groupId)/messages", json: [:]).status == 400)
    }
}
