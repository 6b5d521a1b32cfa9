/// A chat as one user sees it in their chat list.
public struct WireChat: Codable, Sendable, Equatable {
    public var chatId: String
    /// Set for group chats (equal to `chat_id`).
    public var groupId: String?
    /// `group` or `direct`.
    public var kind: String
    public var title: String?
    public var open: Bool?
    public var owner: String?
    /// The two users of a direct chat.
    public var members: [String]?
    /// The caller's role.
    public var role: String
    /// The chat's position: the seq of its latest change.
    public var seq: Int64
    public var readSeq: Int64
    public var unread: Int
    public var lastMessage: WireMessage?

    public init(chatId: String, groupId: String?, kind: String, title: String?, open: Bool?, owner: String?,
                members: [String]?, role: String, seq: Int64, readSeq: Int64, unread: Int, lastMessage: WireMessage?) {
        self.chatId = chatId
        self.groupId = groupId
        self.kind = kind
        self.title = title
        self.open = open
        self.owner = owner
        self.members = members
        self.role = role
        self.seq = seq
        self.readSeq = readSeq
        self.unread = unread
        self.lastMessage = lastMessage
    }

    enum CodingKeys: String, CodingKey {
        case chatId = "chat_id", groupId = "group_id", kind, title, open, owner, members, role, seq
        case readSeq = "read_seq", unread, lastMessage = "last_message"
    }
}

public struct WireMember: Codable, Sendable, Equatable {
    public var userId: String
    public var role: String
    public var readSeq: Int64
    public var joinedTs: Int64

    public init(userId: String, role: String, readSeq: Int64, joinedTs: Int64) {
        self.userId = userId
        self.role = role
        self.readSeq = readSeq
        self.joinedTs = joinedTs
    }

    enum CodingKeys: String, CodingKey { case userId = "user_id", role, readSeq = "read_seq", joinedTs = "joined_ts" }
}

public struct WireInvitation: Codable, Sendable, Equatable {
    public var groupId: String
    public var title: String?
    public var invitedBy: String
    public var ts: Int64

    public init(groupId: String, title: String?, invitedBy: String, ts: Int64) {
        self.groupId = groupId
        self.title = title
        self.invitedBy = invitedBy
        self.ts = ts
    }

    enum CodingKeys: String, CodingKey { case groupId = "group_id", title, invitedBy = "invited_by", ts }
}
