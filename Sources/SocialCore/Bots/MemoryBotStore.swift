/// Bot accounts in memory: tests and `--store memory`. The actor serialises calls.
public actor MemoryBotStore: BotStore {
    private var bots: [String: BotAccount] = [:]

    public init() {}

    public func createBot(_ bot: BotAccount) async throws {
        guard bots[bot.id] == nil else { throw StoreError.conflict("bot \(bot.id) exists") }
        bots[bot.id] = bot
    }

    public func bot(_ id: String) async throws -> BotAccount? { bots[id] }

    public func bots() async throws -> [BotAccount] { bots.values.sorted { $0.id < $1.id } }

    public func updateBot(_ bot: BotAccount) async throws {
        guard var stored = bots[bot.id] else { throw StoreError.notFound("bot \(bot.id)") }
        stored.secretHash = bot.secretHash
        stored.disabled = bot.disabled
        stored.updatedAt = bot.updatedAt
        bots[bot.id] = stored
    }
}
