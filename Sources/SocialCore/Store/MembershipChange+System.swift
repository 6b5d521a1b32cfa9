import SocialProtocol

/// What every store writes for a membership change, so backends agree on the
/// system messages they append.
extension MembershipChange {
    /// The event the change's system message records.
    public var systemEvent: SystemEvent {
        switch self {
        case .join(let user, let role):
            return SystemEvent(action: .joined, userId: user, role: role)
        case .invite(let user, let by):
            return SystemEvent(action: .invited, userId: user, by: by)
        case .leave(let user):
            return SystemEvent(action: .left, userId: user)
        case .kick(let user, let by):
            return SystemEvent(action: .kicked, userId: user, by: by)
        case .setRole(let user, let role, let by):
            return SystemEvent(action: .roleChanged, userId: user, by: by, role: role)
        case .transfer(let to, let by):
            return SystemEvent(action: .transferred, userId: to, by: by)
        case .rename(let title, let by):
            return SystemEvent(action: .renamed, by: by, title: title)
        }
    }

    /// Who made the change: the sender of its system message.
    public var actor: UserID {
        switch self {
        case .join(let user, _), .leave(let user): return user
        case .invite(_, let by), .kick(_, let by), .setRole(_, _, let by), .transfer(_, let by), .rename(_, let by):
            return by
        }
    }
}

extension Message {
    /// The kind of every system message.
    public static let systemKind = "system"

    /// A system message recording `event`, sent by `actor`, at `seq`.
    public static func system(_ event: SystemEvent, chat: ChatID, seq: Seq, actor: UserID, now: Int64) -> Message {
        Message(chatId: chat, seq: seq, updatedSeq: seq, sender: actor, senderKind: .system, kind: systemKind,
                text: nil, clientMsgId: nil, replyTo: nil, attachments: [], data: nil, system: event,
                createdAt: now, editedAt: nil, deleted: false, reactions: [:])
    }

    /// Whether the message counts as unread for `user` once past the read marker:
    /// from someone else, not deleted, not a system message.
    public func countsAsUnread(for user: UserID) -> Bool {
        sender != user && !deleted && senderKind != .system
    }
}

extension Chat {
    /// The key of a direct chat: its two users, sorted.
    public static func directPair(_ a: UserID, _ b: UserID) -> [UserID] { a <= b ? [a, b] : [b, a] }
}
