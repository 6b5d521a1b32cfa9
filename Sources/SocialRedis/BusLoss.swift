import SocialCore

/// What a publisher lost since it last said so: the topics of durable events
/// that never reached Redis (dropped from its full queue, or refused by
/// Redis), or, past `topicLimit` topics, everything. The publisher announces
/// it on the control channel (`BusControl`) before anything it publishes
/// next, so every node hears of the hole before the first event after it.
/// Ephemeral events (typing, presence) are not recorded: losing one leaves
/// no hole a client could see.
///
/// Threads: a value; its owner serializes access (the publisher's lock).
struct BusLoss: Equatable, Sendable {
    /// More lost topics than this are announced as "all": the announcement stays small.
    static let topicLimit = 1000

    private(set) var topics: Set<Topic> = []
    /// Too many topics to list: every topic of the shard may have lost events.
    private(set) var all = false

    init() {}

    init(topics: Set<Topic>, all: Bool) {
        self.topics = all ? [] : topics
        self.all = all || topics.count > Self.topicLimit
        if self.all { self.topics = [] }
    }

    static let everything = BusLoss(topics: [], all: true)

    var isEmpty: Bool { !all && topics.isEmpty }

    /// Records a lost event of `topic`.
    mutating func add(_ topic: Topic) {
        guard !all else { return }
        topics.insert(topic)
        if topics.count > Self.topicLimit { self = .everything }
    }

    /// Records everything `other` lost too.
    mutating func merge(_ other: BusLoss) {
        if other.all { self = .everything; return }
        for topic in other.topics { add(topic) }
    }
}
