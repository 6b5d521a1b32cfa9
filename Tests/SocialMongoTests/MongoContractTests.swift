import SocialCore
import SocialMongo
import SocialTesting
import Testing

/// Every check of `StoreContract`, unchanged, against `MongoChatStore`, each
/// on a fresh database of one shared test server.
@Suite(.mongoServer, mongoAvailable)
struct MongoContractTests {
    @Test(arguments: StoreContract.checks)
    func mongo(_ check: StoreContract.Check) async throws {
        let server = try MongoFixture.server
        var opened: MongoChatStore?
        do {
            try await check.run {
                let store = try await MongoFixture.store(server, database: MongoFixture.uniqueDatabase("contract"))
                opened = store
                return store
            }
        } catch {
            if let opened { await MongoFixture.dispose(opened) }
            throw error
        }
        if let opened { await MongoFixture.dispose(opened) }
    }
}

/// Every check of `BotStoreContract` against `MongoChatStore`.
@Suite(.mongoServer, mongoAvailable)
struct MongoBotStoreContractTests {
    @Test(arguments: BotStoreContract.checks)
    func mongo(_ check: BotStoreContract.Check) async throws {
        let server = try MongoFixture.server
        var opened: MongoChatStore?
        do {
            try await check.run {
                let store = try await MongoFixture.store(server, database: MongoFixture.uniqueDatabase("bots"))
                opened = store
                return store
            }
        } catch {
            if let opened { await MongoFixture.dispose(opened) }
            throw error
        }
        if let opened { await MongoFixture.dispose(opened) }
    }
}
