import SocialProtocol

// Domain → wire mapping of chats, members and invitations.

/// The `role` a chat summary shows to someone who is not a member.
enum ViewerRole {
    /// Invited to the group, not yet joined.
    static let invited = "invited"
    /// Neither member nor invited (an open group seen from outside).
    static let none = "none"
}

extension Chat {
    /// The chat as one user sees it.
    /// - Parameters:
    ///   - role: the user's role, or a `ViewerRole` for non-members.
    ///   - readSeq: the user's read marker.
    ///   - unread: the user's unread count.
    ///   - lastMessage: the latest message, when known.
    func wire(role: String, readSeq: Seq, unread: Int, lastMessage: Message?) -> WireChat {
        WireChat(chatId: id, groupId: kind == .group ? id : nil, kind: kind.rawValue, title: title,
                 open: kind == .group ? isOpen : nil, owner: owner,
                 members: kind == .direct ? directUsers : nil, role: role, seq: seq, readSeq: readSeq,
                 unread: unread, lastMessage: lastMessage?.wire)
    }
}

extension Membership {
    /// The chat as its member sees it.
    func wire(lastMessage: Message?) -> WireChat {
        chat.wire(role: member.role.rawValue, readSeq: member.readSeq, unread: unread, lastMessage: lastMessage)
    }
}

extension Member {
    var wire: WireMember { WireMember(userId: userId, role: role.rawValue, readSeq: readSeq, joinedTs: joinedAt) }
}

extension Invitation {
    /// - Parameter title: the group's title, looked up separately.
    func wire(title: String?) -> WireInvitation {
        WireInvitation(groupId: chatId, title: title, invitedBy: invitedBy, ts: createdAt)
    }
}
