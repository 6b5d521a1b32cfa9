/// Chat ids for production: a kind prefix (`g_` for groups, `d_` for direct
/// chats) and 128 random bits in hex, so ids never collide across nodes.
public enum ChatIDs {
    /// A new random id of a chat of `kind`.
    @Sendable
    public static func random(_ kind: ChatKind) -> ChatID {
        var generator = SystemRandomNumberGenerator()
        let prefix = kind == .group ? "g_" : "d_"
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return prefix + hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
