@testable import SocialRedis
import Testing

/// Expiry set members name their user and session unambiguously, whatever the ids hold.
@Suite struct PresenceKeysTests {
    @Test(arguments: ["ann", "a|b", "a\\|b", "\\", "|", "", "🏃‍♀️|ü\\", "x:ps:y"])
    func membersSplitBackIntoUserAndSession(_ user: String) throws {
        for session in ["s1", "gw-1|7", "\\|", ""] {
            let member = PresenceKeys.member(user, session)
            let parsed = try #require(PresenceKeys.parseMember(Array(member.utf8)))
            #expect(parsed.user == user && parsed.sessionId == session, "\(member)")
            #expect(member.hasPrefix(PresenceKeys.memberPrefix(user)))
        }
    }

    @Test func aMemberWithoutAnUnescapedBarIsNotOurs() {
        #expect(PresenceKeys.parseMember(Array("no-bar".utf8)) == nil)
        #expect(PresenceKeys.parseMember(Array("a\\|b".utf8)) == nil)
    }

    @Test func keysSitUnderThePrefix() {
        let keys = PresenceKeys(prefix: "fit")
        #expect(keys.sessions("a|b") == "fit:ps:a|b")
        #expect(keys.lastSeen("a|b") == "fit:pl:a|b")
        #expect(keys.expiries == "fit:pe")
    }
}
