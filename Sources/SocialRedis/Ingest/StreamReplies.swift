/// Reads the replies of the stream commands. Threads: pure functions; any thread.
enum StreamReplies {
    /// The entries of an `XREADGROUP` reply: `[[stream, [[id, [f, v, ...]], ...]]]`,
    /// or null when the block timed out. An entry whose fields are null (it
    /// was deleted from the stream while pending) comes back with no fields.
    static func entries(ofRead reply: RedisReply) throws -> [StreamEntry] {
        switch reply {
        case .null: return []
        case .error(let text): throw RedisBusError.unexpectedReply("XREADGROUP: \(text)")
        case .array(let streams):
            var all: [StreamEntry] = []
            for stream in streams {
                guard case .array(let pair) = stream, pair.count == 2 else { throw unexpected("XREADGROUP", stream) }
                all += try entries(of: pair[1], "XREADGROUP")
            }
            return all
        default: throw unexpected("XREADGROUP", reply)
        }
    }

    /// The entries an `XAUTOCLAIM` reply claimed: `[next-cursor, [[id, fields], ...], deleted-ids?]`.
    static func claimed(_ reply: RedisReply) throws -> (cursor: String, entries: [StreamEntry]) {
        if case .error(let text) = reply { throw RedisBusError.unexpectedReply("XAUTOCLAIM: \(text)") }
        guard case .array(let parts) = reply, parts.count >= 2, let cursor = parts[0].text else {
            throw unexpected("XAUTOCLAIM", reply)
        }
        return (cursor, try entries(of: parts[1], "XAUTOCLAIM"))
    }

    private static func entries(of list: RedisReply, _ command: String) throws -> [StreamEntry] {
        guard case .array(let items) = list else { throw unexpected(command, list) }
        return try items.map { item in
            guard case .array(let pair) = item, pair.count == 2, let id = pair[0].text else {
                throw unexpected(command, item)
            }
            var fields: [String: [UInt8]] = [:]
            if case .array(let flat) = pair[1] {
                var index = 0
                while index + 1 < flat.count {
                    if let name = flat[index].text, case .bulk(let value) = flat[index + 1] { fields[name] = value }
                    index += 2
                }
            }
            return StreamEntry(id: id, fields: fields)
        }
    }

    private static func unexpected(_ command: String, _ reply: RedisReply) -> RedisBusError {
        .unexpectedReply("\(command): unexpected reply \(String(describing: reply).prefix(200))")
    }
}
