import SocialCore

/// Which local sessions receive which topics: a user's sessions, the sessions
/// of a chat's members, the sessions watching a user's presence. No I/O; owned
/// by the lws service thread.
struct Hub {
    private(set) var byUser: [String: Set<UInt64>] = [:]
    /// `.chat` and `.presence` topics.
    private(set) var byTopic: [Topic: Set<UInt64>] = [:]

    /// A change of interest the bus should hear about: the first session of a
    /// topic arrived (true), or the last one left (false).
    struct InterestChange: Hashable {
        var topic: Topic
        var interested: Bool
    }

    mutating func addSession(_ id: UInt64, user: String) -> [InterestChange] {
        let first = byUser[user, default: []].isEmpty
        byUser[user, default: []].insert(id)
        return first ? [InterestChange(topic: .user(user), interested: true)] : []
    }

    mutating func removeSession(_ id: UInt64, user: String, topics: Set<Topic>) -> [InterestChange] {
        var changes: [InterestChange] = []
        for topic in topics { changes += unsubscribe(id, from: topic) }
        byUser[user]?.remove(id)
        if byUser[user]?.isEmpty == true {
            byUser[user] = nil
            changes.append(InterestChange(topic: .user(user), interested: false))
        }
        return changes
    }

    /// Subscribes a session to a chat or presence topic (user topics follow the session itself).
    mutating func subscribe(_ id: UInt64, to topic: Topic) -> [InterestChange] {
        let first = byTopic[topic, default: []].isEmpty
        let (inserted, _) = byTopic[topic, default: []].insert(id)
        return inserted && first ? [InterestChange(topic: topic, interested: true)] : []
    }

    mutating func unsubscribe(_ id: UInt64, from topic: Topic) -> [InterestChange] {
        guard byTopic[topic]?.remove(id) != nil else { return [] }
        if byTopic[topic]?.isEmpty == true {
            byTopic[topic] = nil
            return [InterestChange(topic: topic, interested: false)]
        }
        return []
    }

    func sessions(of topic: Topic) -> Set<UInt64> {
        if case .user(let user) = topic { return byUser[user] ?? [] }
        return byTopic[topic] ?? []
    }
}
