import SocialCore
import SocialSQLite
import SocialTesting
import Testing

/// Every check of `NotificationStoreContract` against the memory and SQLite stores.
@Suite struct NotificationStoreContractTests {
    @Test(arguments: NotificationStoreContract.checks)
    func memory(_ check: NotificationStoreContract.Check) async throws {
        try await check.run { MemoryNotificationStore() }
    }

    @Test(arguments: NotificationStoreContract.checks)
    func sqlite(_ check: NotificationStoreContract.Check) async throws {
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
