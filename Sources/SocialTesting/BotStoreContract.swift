import SocialCore

/// The checks every `BotStore` passes (Memory, SQLite, MongoDB), run like
/// `StoreContract`:
///
/// ```swift
/// @Test(arguments: BotStoreContract.checks)
/// func memory(_ check: BotStoreContract.Check) async throws {
///     try await check.run { MemoryBotStore() }
/// }
/// ```
public enum BotStoreContract {
    public typealias Factory = () async throws -> any BotStore

    /// One named check of the contract.
    public typealias Check = ContractCheck<any BotStore>

    static func bot(_ id: String, disabled: Bool = false) -> BotAccount {
        BotAccount(id: id, name: "Coach \(id)", scopes: ["chat:read", "chat:send"], secretHash: String(repeating: "ab", count: 32),
                   disabled: disabled, createdAt: Fixture.now, updatedAt: Fixture.now, createdBy: "svc-ops")
    }

    public static let checks: [Check] = [
        Check("a created bot reads back exactly") { store in
            try Expect.equal(try await store.bot("bot_a"), nil, "unknown bot")
            try await store.createBot(bot("bot_a"))
            try Expect.equal(try await store.bot("bot_a"), bot("bot_a"))
        },
        Check("a taken id is a conflict and changes nothing") { store in
            try await store.createBot(bot("bot_a"))
            var other = bot("bot_a")
            other.name = "Impostor"
            try await Expect.error(.conflict, "second create") { try await store.createBot(other) }
            try Expect.equal(try await store.bot("bot_a")?.name, "Coach bot_a")
        },
        Check("bots lists every bot by id, disabled ones too") { store in
            try Expect.equal(try await store.bots(), [], "empty store")
            for id in ["bot_c", "bot_a", "bot_b"] { try await store.createBot(bot(id, disabled: id == "bot_b")) }
            try Expect.equal(try await store.bots().map(\.id), ["bot_a", "bot_b", "bot_c"])
            try Expect.equal(try await store.bots().map(\.disabled), [false, true, false])
        },
        Check("update replaces the hash, the flag and updatedAt only") { store in
            try await store.createBot(bot("bot_a"))
            var changed = bot("bot_a")
            changed.secretHash = String(repeating: "cd", count: 32)
            changed.disabled = true
            changed.updatedAt = Fixture.now + 5
            changed.name = "ignored"
            changed.scopes = ["ignored"]
            try await store.updateBot(changed)
            var expected = bot("bot_a")
            expected.secretHash = changed.secretHash
            expected.disabled = true
            expected.updatedAt = Fixture.now + 5
            try Expect.equal(try await store.bot("bot_a"), expected)
        },
        Check("updating an unknown bot is notFound") { store in
            try await Expect.error(.notFound, "update") { try await store.updateBot(bot("bot_x")) }
            try Expect.equal(try await store.bots(), [])
        },
    ]
}
