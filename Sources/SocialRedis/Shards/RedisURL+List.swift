import Foundation

extension RedisURL {
    /// The shards of `--bus`: one `redis://` URL, or several separated by
    /// commas (spaces around them allowed), in shard order. Throws
    /// `RedisBusError.invalidURL` for a bad URL, an empty list, or a Redis
    /// listed twice (same host and port).
    public static func list(parsing text: String) throws -> [RedisURL] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.contains(where: \.isEmpty) else {
            throw RedisBusError.invalidURL("invalid Redis URL list \"\(text)\": an empty entry")
        }
        let urls = try parts.map { try RedisURL(parsing: $0) }
        var seen = Set<String>()
        for url in urls where !seen.insert("\(url.host):\(url.port)").inserted {
            throw RedisBusError.invalidURL("invalid Redis URL list \"\(text)\": \(url.host):\(url.port) is listed twice")
        }
        return urls
    }
}
