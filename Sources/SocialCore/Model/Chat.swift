/// A user id: the `sub` claim of the caller's access token.
public typealias UserID = String
/// A chat id. A group's chat has the group's id.
public typealias ChatID = String
/// A chat's position: its last assigned sequence number.
public typealias Seq = Int64

public enum ChatKind: String, Sendable, Codable {
    case group
    case direct
}

public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case member
    case admin
    case owner

    private var rank: Int {
        switch self {
        case .member: return 0
        case .admin: return 1
        case .owner: return 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// A chat as stored: a group chat or a direct chat.
public struct Chat: Sendable, Equatable {
    public var id: ChatID
    public var kind: ChatKind
    /// Group title; `nil` for direct chats.
    public var title: String?
    /// Whether anyone may join without an invitation (groups only).
    public var isOpen: Bool
    /// The group's owner; `nil` for direct chats.
    public var owner: UserID?
    /// The two users of a direct chat, sorted; empty for groups.
    public var directUsers: [UserID]
    /// The chat's position: the sequence number of its latest change.
    public var seq: Seq
    /// Milliseconds since 1970.
    public var createdAt: Int64

    public init(id: ChatID, kind: ChatKind, title: String?, isOpen: Bool, owner: UserID?,
                directUsers: [UserID], seq: Seq, createdAt: Int64) {
        self.id = id
        self.kind = kind
        self.title = title
        self.isOpen = isOpen
        self.owner = owner
        self.directUsers = directUsers
        self.seq = seq
        self.createdAt = createdAt
    }
}

/// A user's membership of a chat.
public struct Member: Sendable, Equatable {
    public var chatId: ChatID
    public var userId: UserID
    public var role: Role
    /// The highest seq this user has marked read (0: nothing).
    public var readSeq: Seq
    public var joinedAt: Int64

    public init(chatId: ChatID, userId: UserID, role: Role, readSeq: Seq, joinedAt: Int64) {
        self.chatId = chatId
        self.userId = userId
        self.role = role
        self.readSeq = readSeq
        self.joinedAt = joinedAt
    }
}

/// One chat of a user's chat list, with what the list shows.
public struct Membership: Sendable, Equatable {
    public var chat: Chat
    public var member: Member
    /// Messages after `member.readSeq` from others, not deleted, not system.
    public var unread: Int

    public init(chat: Chat, member: Member, unread: Int) {
        self.chat = chat
        self.member = member
        self.unread = unread
    }
}

/// A pending invitation to a group.
public struct Invitation: Sendable, Equatable {
    public var chatId: ChatID
    public var userId: UserID
    public var invitedBy: UserID
    public var createdAt: Int64

    public init(chatId: ChatID, userId: UserID, invitedBy: UserID, createdAt: Int64) {
        self.chatId = chatId
        self.userId = userId
        self.invitedBy = invitedBy
        self.createdAt = createdAt
    }
}
