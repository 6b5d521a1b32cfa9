import SocialCore
import Testing

@Suite struct ChatIDsTests {
    @Test func randomIdsCarryTheirKindAnd128Bits() {
        let group = ChatIDs.random(.group)
        let direct = ChatIDs.random(.direct)
        #expect(group.hasPrefix("g_"))
        #expect(direct.hasPrefix("d_"))
        for id in [group, direct] {
            #expect(id.count == 34)
            #expect(id.dropFirst(2).allSatisfy { $0.isHexDigit })
        }
        #expect(Set((0..<1000).map { _ in ChatIDs.random(.group) }).count == 1000)
    }
}
