import SocialCore

/// Messages, history, changes, reactions and unread counts.
/// Every body runs on a worker thread (`run`). Calls on a chat load its
/// document first: an unknown chat is `notFound`, and a change a crashed node
/// left pending is completed before reading (see `ChatLog`).
extension MongoChatStore {
    public func message(_ chat: ChatID, seq: Seq) async throws -> Message? {
        try await run { log in try log.message(chat, seq)?.message }
    }

    public func history(_ chat: ChatID, before: Seq?, after: Seq?, limit: Int) async throws -> [Message] {
        try await run { log in
            _ = try log.require(chat)
            guard limit > 0 else { return [] }     // a MongoDB limit of 0 means no limit
            var range = BSONDocument()
            if let after { range["$gt"] = .int64(after) }
            if let before { range["$lt"] = .int64(before) }
            var filter: BSONDocument = ["chat": .string(chat)]
            if !range.isEmpty { filter["seq"] = .document(range) }
            // With `after`: the first `limit` after it; otherwise the last `limit`, read backwards.
            let ascending = after != nil
            let page = try log.db.messages.find(filter, sort: ["seq": ascending ? 1 : -1], limit: limit)
                .map { try MessageDocuments.stored($0).message }
            return ascending ? page : page.reversed()
        }
    }

    public func changes(_ chat: ChatID, after: Seq, limit: Int) async throws -> [Message] {
        try await run { log in
            _ = try log.require(chat)
            guard limit > 0 else { return [] }
            return try log.db.messages.find(["chat": .string(chat), "useq": ["$gt": .int64(after)]],
                                            sort: ["useq": 1], limit: limit)
                .map { try MessageDocuments.stored($0).message }
        }
    }

    public func reactions(of user: UserID, in chat: ChatID, seqs: [Seq]) async throws -> [Seq: [String]] {
        try await run { log in
            _ = try log.require(chat)
            guard !seqs.isEmpty else { return [:] }
            let unique = Array(Set(seqs)).map(BSON.int64)
            var result: [Seq: [String]] = [:]
            for doc in try log.db.messages.find(["chat": .string(chat), "seq": ["$in": .array(unique)]]) {
                let stored = try MessageDocuments.stored(doc)
                let emoji = stored.emoji(of: user)
                if !emoji.isEmpty { result[stored.message.seq] = emoji }
            }
            return result
        }
    }

    public func unread(_ chat: ChatID, user: UserID) async throws -> Int {
        try await run { log in
            _ = try log.require(chat)
            return try log.unread(try log.requireMember(chat, user))
        }
    }
}
