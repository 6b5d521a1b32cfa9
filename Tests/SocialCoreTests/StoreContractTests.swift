import Foundation
import SocialCore
import SocialSQLite
import SocialTesting
import Testing

/// Every check of `StoreContract`, unchanged, against each store.
@Suite struct StoreContractTests {
    @Test(arguments: StoreContract.checks)
    func memory(_ check: StoreContract.Check) async throws {
        try await check.run { MemoryChatStore() }
    }

    @Test(arguments: StoreContract.checks)
    func sqlite(_ check: StoreContract.Check) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var opened: SQLiteChatStore?
        try await check.run {
            let store = try SQLiteChatStore(directory: directory.path)
            opened = store
            return store
        }
        await opened?.close()
    }
}

/// A fresh directory under the system's temporary directory.
struct TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("social-store-\(UUID().uuidString)").path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Every check of `BotStoreContract` against the Memory and SQLite bot stores
/// (MongoDB's runs in SocialMongoTests).
@Suite struct BotStoreContractTests {
    @Test(arguments: BotStoreContract.checks)
    func memory(_ check: BotStoreContract.Check) async throws {
        try await check.run { MemoryBotStore() }
    }

    @Test(arguments: BotStoreContract.checks)
    func sqlite(_ check: BotStoreContract.Check) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var opened: SQLiteChatStore?
        try await check.run {
            let store = try SQLiteChatStore(directory: directory.path)
            opened = store
            return store
        }
        await opened?.close()
    }
}
