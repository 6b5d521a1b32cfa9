import SocialCore

/// Bot accounts, in the `bots` table of the same database (schema v2).
/// Writes run on the writer thread, reads on a reader thread.
extension SQLiteChatStore: BotStore {
    static let botColumns = "id, name, scopes, secret_hash, disabled, created_at, updated_at, created_by"

    public func createBot(_ bot: BotAccount) async throws {
        try await writer.submit { db in
            guard try db.with("SELECT 1 FROM bots WHERE id = ?", { try $0.bind(bot.id).step() }) == false else {
                throw StoreError.conflict("bot \(bot.id) exists")
            }
            try db.with("INSERT INTO bots (\(Self.botColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") {
                try $0.bind(bot.id, bot.name, bot.scopes.joined(separator: " "), bot.secretHash, bot.disabled,
                            bot.createdAt, bot.updatedAt, bot.createdBy).run()
            }
        }
    }

    public func bot(_ id: String) async throws -> BotAccount? {
        try await readers.read { db in
            try db.with("SELECT \(Self.botColumns) FROM bots WHERE id = ?") { try $0.bind(id).first(Self.botRow) }
        }
    }

    public func bots() async throws -> [BotAccount] {
        try await readers.read { db in
            try db.with("SELECT \(Self.botColumns) FROM bots ORDER BY id") { try $0.rows(Self.botRow) }
        }
    }

    public func updateBot(_ bot: BotAccount) async throws {
        try await writer.submit { db in
            let changed = try db.with("UPDATE bots SET secret_hash = ?, disabled = ?, updated_at = ? WHERE id = ? RETURNING 1") {
                try $0.bind(bot.secretHash, bot.disabled, bot.updatedAt, bot.id).step()
            }
            guard changed else { throw StoreError.notFound("bot \(bot.id)") }
        }
    }

    static func botRow(_ row: SQLiteStatement) -> BotAccount {
        BotAccount(id: row.string(0), name: row.string(1),
                   scopes: row.string(2).split(separator: " ").map(String.init), secretHash: row.string(3),
                   disabled: row.bool(4), createdAt: row.int64(5), updatedAt: row.int64(6), createdBy: row.string(7))
    }
}
