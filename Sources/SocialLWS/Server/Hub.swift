/// Which local sessions receive which topics: a user's sessions, and the
/// sessions of a chat's members. No I/O; owned by the lws service thread.
struct Hub {
    private(set) var byUser: [String: Set<UInt64>] = [:]
    private(set) var byChat: [String: Set<UInt64>] = [:]

    /// A change of interest the bus should hear about: the first session of a
    /// topic arrived, or the last one left.
    enum InterestChange: Equatable {
        case user(String, Bool)
        case chat(String, Bool)
    }

    mutating func addSession(_ id: UInt64, user: String) -> [InterestChange] {
        let first = byUser[user, default: []].isEmpty
        byUser[user, default: []].insert(id)
        return first ? [.user(user, true)] : []
    }

    mutating func removeSession(_ id: UInt64, user: String, chats: Set<String>) -> [InterestChange] {
        var changes: [InterestChange] = []
        for chat in chats { changes += unsubscribe(id, from: chat) }
        byUser[user]?.remove(id)
        if byUser[user]?.isEmpty == true {
            byUser[user] = nil
            changes.append(.user(user, false))
        }
        return changes
    }

    mutating func subscribe(_ id: UInt64, to chat: String) -> [InterestChange] {
        let first = byChat[chat, default: []].isEmpty
        let (inserted, _) = byChat[chat, default: []].insert(id)
        return inserted && first ? [.chat(chat, true)] : []
    }

    mutating func unsubscribe(_ id: UInt64, from chat: String) -> [InterestChange] {
        guard byChat[chat]?.remove(id) != nil else { return [] }
        if byChat[chat]?.isEmpty == true {
            byChat[chat] = nil
            return [.chat(chat, false)]
        }
        return []
    }

    func sessions(ofUser user: String) -> Set<UInt64> { byUser[user] ?? [] }
    func sessions(ofChat chat: String) -> Set<UInt64> { byChat[chat] ?? [] }
}
