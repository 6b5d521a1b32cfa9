import SocialCore

/// Chats, members and invitations as stored documents.
enum ChatDocuments {
    /// A chat document without its `pending` change (see `ChatLog`).
    static func document(_ chat: Chat) -> BSONDocument {
        var doc: BSONDocument = ["_id": .string(chat.id), "kind": .string(chat.kind.rawValue), "open": .bool(chat.isOpen),
                                 "seq": .int64(chat.seq), "at": .int64(chat.createdAt)]
        doc.setOptional("title", chat.title.map(BSON.string))
        doc.setOptional("owner", chat.owner.map(BSON.string))
        if chat.directUsers.count == 2 {
            doc["da"] = .string(chat.directUsers[0])
            doc["db"] = .string(chat.directUsers[1])
        }
        return doc
    }

    static func chat(_ doc: BSONDocument) throws -> Chat {
        var users: [UserID] = []
        if let a = doc.optionalString("da"), let b = doc.optionalString("db") { users = [a, b] }
        return Chat(id: try doc.string("_id"), kind: try doc.enumValue("kind", ChatKind.self),
                    title: doc.optionalString("title"), isOpen: try doc.bool("open"), owner: doc.optionalString("owner"),
                    directUsers: users, seq: try doc.int64("seq"), createdAt: try doc.int64("at"))
    }

    /// The fields a join writes (the key, `on` and `v` are added by the write).
    static func memberFields(_ member: Member) -> BSONDocument {
        ["role": .string(member.role.rawValue), "read": .int64(member.readSeq), "joined": .int64(member.joinedAt)]
    }

    static func member(_ doc: BSONDocument) throws -> Member {
        Member(chatId: try doc.string("chat"), userId: try doc.string("user"), role: try doc.enumValue("role", Role.self),
               readSeq: try doc.int64("read"), joinedAt: try doc.int64("joined"))
    }

    static func invitationFields(_ invitation: Invitation) -> BSONDocument {
        ["by": .string(invitation.invitedBy), "at": .int64(invitation.createdAt)]
    }

    static func invitation(_ doc: BSONDocument) throws -> Invitation {
        Invitation(chatId: try doc.string("chat"), userId: try doc.string("user"), invitedBy: try doc.string("by"),
                   createdAt: try doc.int64("at"))
    }
}
