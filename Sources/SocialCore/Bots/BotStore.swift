/// Where bot accounts live: SQLite in the embedded mode, MongoDB in the
/// distributed one, memory in tests. Every implementation passes
/// `BotStoreContract` (SocialTesting).
///
/// Methods may be called from any task, concurrently; a call that returns
/// has made its change durable.
public protocol BotStore: Sendable {
    /// Stores a new bot. `StoreError.conflict` when its id is taken.
    func createBot(_ bot: BotAccount) async throws
    func bot(_ id: String) async throws -> BotAccount?
    /// Every bot, disabled ones included, ordered by id.
    func bots() async throws -> [BotAccount]
    /// Replaces a bot's secret hash, disabled flag and `updatedAt` (id, name,
    /// scopes and creation stay). `StoreError.notFound` when there is no such bot.
    func updateBot(_ bot: BotAccount) async throws
}
