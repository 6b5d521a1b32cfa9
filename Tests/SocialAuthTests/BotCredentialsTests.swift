import Testing
@testable import SocialAuth

@Suite struct BotCredentialsTests {
    static func directory(_ secret: String, disabled: Bool = false) -> BotCredentials {
        let credentials = BotCredentials()
        credentials.replaceAll([.init(id: "bot_a", secretHash: BotCredentials.hash(secret), scopes: ["chat:send"], disabled: disabled)])
        return credentials
    }

    @Test func theRightSecretGivesTheBotsIdentity() throws {
        let secret = BotCredentials.makeSecret()
        let identity = try Self.directory(secret).verify("bot_a:\(secret)").get()
        #expect(identity.userId == "bot_a")
        #expect(identity.isBot)
        #expect(identity.scopes == ["chat:send"])
        #expect(identity.expiresAt == .infinity)
    }

    @Test func wrongUnknownDisabledAndMalformedCredentialsAreRefused() {
        let secret = BotCredentials.makeSecret()
        let credentials = Self.directory(secret)
        #expect(credentials.verify("bot_a:\(secret)x") == .failure(.badBotSecret))
        #expect(credentials.verify("bot_b:\(secret)") == .failure(.unknownBot))
        #expect(credentials.verify("bot_a") == .failure(.malformed("a bot credential is <bot_id>:<secret>")))
        #expect(Self.directory(secret, disabled: true).verify("bot_a:\(secret)") == .failure(.botDisabled))
    }

    @Test func aRefreshReplacesEveryEntryAndAnUpdateOne() {
        let old = BotCredentials.makeSecret(), new = BotCredentials.makeSecret()
        let credentials = Self.directory(old)
        credentials.update(.init(id: "bot_a", secretHash: BotCredentials.hash(new), scopes: [], disabled: false))
        #expect(credentials.verify("bot_a:\(old)") == .failure(.badBotSecret))
        #expect((try? credentials.verify("bot_a:\(new)").get()) != nil)
        credentials.replaceAll([])
        #expect(credentials.count == 0)
        #expect(credentials.verify("bot_a:\(new)") == .failure(.unknownBot))
    }

    @Test func secretsAreLongRandomAndHashedAsHexSHA256() {
        let a = BotCredentials.makeSecret(), b = BotCredentials.makeSecret()
        #expect(a != b)
        #expect(a.hasPrefix("bs_") && a.count == 46)
        #expect(BotCredentials.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
