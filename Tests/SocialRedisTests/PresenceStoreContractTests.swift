import Logging
import SocialCore
import SocialRedis
import SocialTesting
import Testing

/// Every check of `PresenceStoreContract`, unchanged, against the in-memory
/// reference and the Redis store, side by side.
@Suite struct PresenceStoreContractTests {
    @Test(arguments: PresenceStoreContract.checks)
    func memory(_ check: PresenceStoreContract.Check) async throws {
        try await check.run { MemoryPresenceStore() }
    }

    @Test(arguments: PresenceStoreContract.checks)
    func redis(_ check: PresenceStoreContract.Check) async throws {
        let server = try RedisTestServer.start()
        let store = try PresenceNode(server).store
        defer { store.close() }
        try await check.run { store }
    }
}
