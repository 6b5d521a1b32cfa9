import Foundation
import SocialCore
import SocialProtocol

/// Column lists and row decoding for the store's tables, and JSON columns.
/// Threads: stateless; runs on whichever store thread reads the row.
enum SQLiteRows {
    static let chatColumns = "id, kind, title, is_open, owner, direct_a, direct_b, seq, created_at"
    static let memberColumns = "chat_id, user_id, role, read_seq, joined_at"
    static let invitationColumns = "chat_id, user_id, invited_by, created_at"
    static let messageColumns = """
        chat_id, seq, updated_seq, sender, sender_kind, kind, text, client_msg_id, reply_to, \
        attachments, data, system, created_at, edited_at, deleted, reactions
        """

    static func chat(_ row: SQLiteStatement) throws -> Chat {
        let a = row.optionalString(5), b = row.optionalString(6)
        return Chat(id: row.string(0), kind: try decode(ChatKind.self, raw: row.string(1)), title: row.optionalString(2),
                    isOpen: row.bool(3), owner: row.optionalString(4), directUsers: [a, b].compactMap { $0 },
                    seq: row.int64(7), createdAt: row.int64(8))
    }

    static func member(_ row: SQLiteStatement) throws -> Member { try member(row, from: 0) }

    /// A member from `memberColumns` starting at column `first`.
    static func member(_ row: SQLiteStatement, from first: Int32) throws -> Member {
        Member(chatId: row.string(first), userId: row.string(first + 1),
               role: try decode(Role.self, raw: row.string(first + 2)),
               readSeq: row.int64(first + 3), joinedAt: row.int64(first + 4))
    }

    static func invitation(_ row: SQLiteStatement) -> Invitation {
        Invitation(chatId: row.string(0), userId: row.string(1), invitedBy: row.string(2), createdAt: row.int64(3))
    }

    static func message(_ row: SQLiteStatement) throws -> Message {
        Message(chatId: row.string(0), seq: row.int64(1), updatedSeq: row.int64(2), sender: row.string(3),
                senderKind: try decode(SenderKind.self, raw: row.string(4)), kind: row.string(5),
                text: row.optionalString(6), clientMsgId: row.optionalString(7), replyTo: row.optionalInt64(8),
                attachments: try json([Attachment].self, row.optionalString(9)) ?? [],
                data: try json(JSONValue.self, row.optionalString(10)),
                system: try json(SystemEvent.self, row.optionalString(11)),
                createdAt: row.int64(12), editedAt: row.optionalInt64(13), deleted: row.bool(14),
                reactions: try json([String: Int].self, row.optionalString(15)) ?? [:])
    }

    /// JSON text for a column, or nil (NULL) when there is nothing to store.
    static func json<T: Encodable>(_ value: T?) throws -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreError.unavailable("sqlite: cannot encode \(T.self): \(error)")
        }
    }

    static func json(_ attachments: [Attachment]) throws -> String? { attachments.isEmpty ? nil : try json(Optional(attachments)) }

    static func json(_ reactions: [String: Int]) throws -> String? { reactions.isEmpty ? nil : try json(Optional(reactions)) }

    static func json<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.unavailable("sqlite: unreadable \(T.self) column: \(error)")
        }
    }

    private static func decode<T: RawRepresentable>(_ type: T.Type, raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else { throw StoreError.unavailable("sqlite: unknown \(T.self) '\(raw)'") }
        return value
    }
}
