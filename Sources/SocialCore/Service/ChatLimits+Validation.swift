import SocialProtocol

/// Checks of command args against the limits. Each throws a `ServiceError`
/// naming the field by its wire name, or returns the value to use.
extension ChatLimits {
    /// A chat, group or user id.
    func id(_ value: String, field: String) throws(ServiceError) -> String {
        guard idBytes.contains(value.utf8.count) else {
            throw .invalidArgs(field, "must be \(idBytes.lowerBound)...\(idBytes.upperBound) bytes")
        }
        return value
    }

    /// A user id that must not be the caller's own: nobody opens a direct chat
    /// with, removes, re-roles or hands ownership to themself.
    /// - Parameters:
    ///   - value: the `user_id` arg.
    ///   - caller: the caller's user id.
    ///   - problem: what the error says when `value` is the caller.
    func otherUser(_ value: String, caller: UserID, problem: String) throws(ServiceError) -> UserID {
        let user = try id(value, field: "user_id")
        guard user != caller else { throw .invalidArgs("user_id", problem) }
        return user
    }

    /// A group title, trimmed of surrounding whitespace. Its length counts
    /// Unicode code points, as JSON Schema's `maxLength` does.
    func title(_ value: String, field: String = "title") throws(ServiceError) -> String {
        let trimmed = value.trimmingWhitespace()
        let length = trimmed.unicodeScalars.count
        guard length > 0, length >= titleLength.lowerBound else {
            throw .invalidArgs(field, trimmed.isEmpty ? "must not be empty" : "shorter than \(titleLength.lowerBound) code points")
        }
        guard length <= titleLength.upperBound else {
            throw .tooLarge(field, "longer than \(titleLength.upperBound) code points")
        }
        guard !trimmed.unicodeScalars.contains(where: \.isControl) else {
            throw .invalidArgs(field, "must not contain control characters")
        }
        return trimmed
    }

    /// A message's text.
    func text(_ value: String, field: String = "text") throws(ServiceError) {
        guard value.utf8.count <= maxTextBytes else {
            throw .tooLarge(field, "longer than \(maxTextBytes) bytes")
        }
    }

    /// A message kind: `[a-z0-9_.-]`, within `kindLength`.
    func kind(_ value: String, field: String = "kind") throws(ServiceError) -> String {
        guard kindLength.contains(value.utf8.count),
              value.utf8.allSatisfy({ Self.kindBytes.contains($0) }) else {
            throw .invalidArgs(field, "must be \(kindLength.lowerBound)...\(kindLength.upperBound) characters of [a-z0-9_.-]")
        }
        return value
    }

    /// Kind-specific fields or attachment metadata.
    func json(_ value: JSONValue, field: String) throws(ServiceError) {
        guard value.approximateSize <= maxJSONBytes else {
            throw .tooLarge(field, "larger than \(maxJSONBytes) bytes")
        }
    }

    /// A message's attachments, as stored.
    func attachments(_ values: [WireAttachment], field: String = "attachments") throws(ServiceError) -> [Attachment] {
        guard values.count <= maxAttachments else {
            throw .tooLarge(field, "more than \(maxAttachments) attachments")
        }
        var result: [Attachment] = []
        result.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            let item = "\(field)[\(i)]"
            guard value.url.utf8.count <= maxAttachmentURLBytes else {
                throw .tooLarge("\(item).url", "longer than \(maxAttachmentURLBytes) bytes")
            }
            guard Self.isWebURL(value.url) else {
                throw .invalidArgs("\(item).url", "must be an http:// or https:// URL")
            }
            if let size = value.size, size < 0 { throw .invalidArgs("\(item).size", "must not be negative") }
            if let meta = value.meta { try json(meta, field: "\(item).meta") }
            result.append(Attachment(wire: value))
        }
        return result
    }

    /// The id a client gives a message so that retries store it once.
    func clientMsgId(_ value: String, field: String = "client_msg_id") throws(ServiceError) -> String {
        guard clientMsgIdBytes.contains(value.utf8.count) else {
            throw .invalidArgs(field, "must be \(clientMsgIdBytes.lowerBound)...\(clientMsgIdBytes.upperBound) bytes")
        }
        return value
    }

    /// A reaction: a short string without whitespace or control characters.
    func emoji(_ value: String, field: String = "emoji") throws(ServiceError) -> String {
        guard emojiBytes.contains(value.utf8.count) else {
            throw .invalidArgs(field, "must be \(emojiBytes.lowerBound)...\(emojiBytes.upperBound) bytes")
        }
        guard !value.unicodeScalars.contains(where: { $0.isControl || $0.properties.isWhitespace }) else {
            throw .invalidArgs(field, "must not contain whitespace or control characters")
        }
        return value
    }

    /// A message's seq given in args: positive.
    func seq(_ value: Int64, field: String = "seq") throws(ServiceError) -> Seq {
        guard value > 0 else { throw .invalidArgs(field, "must be a positive seq") }
        return value
    }

    /// A chat position given in args: zero or more.
    func position(_ value: Int64, field: String) throws(ServiceError) -> Seq {
        guard value >= 0 else { throw .invalidArgs(field, "must not be negative") }
        return value
    }

    /// The `chat.history` page size to use.
    func historyLimit(_ value: Int?) throws(ServiceError) -> Int {
        try page(value, default: defaultHistoryLimit, max: maxHistoryLimit)
    }

    /// The `sync` change budget to use.
    func syncLimit(_ value: Int?) throws(ServiceError) -> Int {
        try page(value, default: defaultSyncLimit, max: maxSyncLimit)
    }

    private func page(_ value: Int?, default defaultValue: Int, max maxValue: Int) throws(ServiceError) -> Int {
        guard let value else { return defaultValue }
        guard value >= 1 else { throw .invalidArgs("limit", "must be at least 1") }
        return min(value, maxValue)
    }

    private static let kindBytes: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyz0123456789_.-".utf8))

    private static func isWebURL(_ url: String) -> Bool {
        for scheme in ["http://", "https://"] {
            if url.utf8.count > scheme.utf8.count,
               url.prefix(scheme.count).lowercased() == scheme { return true }
        }
        return false
    }
}

extension Unicode.Scalar {
    /// C0 and C1 control characters (`Cc`).
    var isControl: Bool { properties.generalCategory == .control }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
              let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }

    /// Whether there is anything but whitespace.
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}

extension ChatLimits {
    /// The users of a `presence.*` call: 1...`maxPresenceUsers` valid ids, duplicates removed.
    func presenceUsers(_ users: [String]) throws(ServiceError) -> [String] {
        guard (1...maxPresenceUsers).contains(users.count) else {
            throw .invalidArgs("user_ids", "must list 1...\(maxPresenceUsers) users")
        }
        var seen = Set<String>()
        var out: [String] = []
        for (i, user) in users.enumerated() {
            _ = try id(user, field: "user_ids[\(i)]")
            if seen.insert(user).inserted { out.append(user) }
        }
        return out
    }

    /// `presenceUsers`, or nil when the list is invalid (the command then
    /// fails with the reason): the transport reads the watches a
    /// `presence.subscribe` asks for before it runs.
    public func watchCandidates(_ users: [String]) -> [String]? {
        try? presenceUsers(users)
    }

    /// A training activity such as `run`, `ride` or `gym`.
    func activity(_ value: String) throws(ServiceError) -> String {
        guard activityLength.contains(value.utf8.count),
              value.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D })
        else { throw .invalidArgs("activity", "must be \(activityLength.lowerBound)...\(activityLength.upperBound) of [a-z0-9_-]") }
        return value
    }
}
