import SocialCore
import SocialMongo
import SocialTesting
import Testing

/// Every check of `NotificationStoreContract` against `MongoChatStore`, each
/// on a fresh database of the shared test server.
@Suite(.mongoServer, mongoAvailable)
struct MongoNotificationContractTests {
    @Test(arguments: NotificationStoreContract.checks)
    func mongo(_ check: NotificationStoreContract.Check) async throws {
        let server = try MongoFixture.server
        var opened: MongoChatStore?
        do {
            try await check.run {
                let store = try await MongoFixture.store(server, database: MongoFixture.uniqueDatabase("notify"))
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
