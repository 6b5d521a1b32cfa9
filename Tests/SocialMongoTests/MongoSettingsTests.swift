import Foundation
import SocialCore
import SocialMongo
import SocialTesting
import Testing

/// Start-up: bad settings are refused; a database that is not there leaves
/// the store unready, its calls failing quickly. No server needed.
@Suite struct MongoSettingsTests {
    @Test(arguments: ["not a uri", "mongodb://", "http://127.0.0.1:27017"])
    func anInvalidURIIsRefused(_ uri: String) async {
        let error = await #expect(throws: StoreError.self) { try await MongoChatStore(uri: uri) }
        #expect(error?.message.contains("invalid URI") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["0", "-1", "all", ""])
    func aWriteConcernThatIsNotAcknowledgedOrUnknownIsRefused(_ concern: String) async {
        let error = await #expect(throws: StoreError.self) {
            try await MongoChatStore(uri: "mongodb://127.0.0.1:1/", writeConcern: concern)
        }
        #expect(error?.message.contains("write concern") == true, "\(String(describing: error))")
    }

    @Test func aDatabaseThatIsNotThereStartsTheStoreUnreadyAndCallsFailFast() async throws {
        let port = RawSocket.freePort()      // nothing listens there
        let start = ContinuousClock.now
        let store = try await MongoChatStore(uri: "mongodb://127.0.0.1:\(port)/", serverSelectionTimeoutMS: 500)
        #expect(ContinuousClock.now - start < .seconds(10), "the start does not wait for the database")
        let reason = await store.unreadyReason()
        #expect(reason != nil, "unready, with a reason")
        #expect(await store.ping() == false)
        let error = await #expect(throws: StoreError.self) { try await store.memberships(of: "ann") }
        #expect(error?.isTemporary == true)
        await store.close()
    }
}
