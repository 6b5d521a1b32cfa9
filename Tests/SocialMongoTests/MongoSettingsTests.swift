import Foundation
import SocialCore
import SocialMongo
import SocialTesting
import Testing

/// Start-up: bad settings are refused, and a database that is not there
/// fails the store quickly. No server needed.
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

    @Test func aDatabaseThatIsNotThereFailsStartUpWithinTheSelectionTimeout() async {
        let port = RawSocket.freePort()      // nothing listens there
        let start = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            try await MongoChatStore(uri: "mongodb://127.0.0.1:\(port)/", serverSelectionTimeoutMS: 500)
        }
        #expect(error?.isTemporary == true)
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}
