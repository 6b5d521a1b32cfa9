import Testing
@testable import SocialRedis

@Suite struct RedisURLTests {
    @Test func parsesHostPortAndDatabase() throws {
        #expect(try RedisURL(parsing: "redis://cache.internal:6380/3") == RedisURL(host: "cache.internal", port: 6380, database: 3))
        #expect(try RedisURL(parsing: "redis://127.0.0.1:7000") == RedisURL(host: "127.0.0.1", port: 7000, database: 0))
        #expect(try RedisURL(parsing: "redis://redis") == RedisURL(host: "redis", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://redis:6379/") == RedisURL(host: "redis", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://[::1]:6390/1") == RedisURL(host: "::1", port: 6390, database: 1))
        #expect(try RedisURL(parsing: "redis://[::1]") == RedisURL(host: "::1", port: 6379, database: 0))
    }

    @Test(arguments: [
        "", "redis:/host", "http://host:6379", "rediss://host", "redis://", "redis://:6379",
        "redis://host:0", "redis://host:65536", "redis://host:-1", "redis://host:12ab", "redis://host:",
        "redis://host:6379/16", "redis://host:6379/x", "redis://host:6379/1/2", "redis://host/ 1",
        "redis://user:pw@host:6379", "redis://host:6379?db=1", "redis://host#x", "redis://::1:6379",
        "redis://[::1", "redis://[::1]x", "redis://[host]:6379", "redis://ho st", "redis://hôst",
    ])
    func refusesWhatIsNotStrictlyAURL(_ text: String) {
        #expect(throws: RedisBusError.invalidURL) { try RedisURL(parsing: text) }
    }

    @Test func errorSaysWhatIsWrong() {
        do {
            _ = try RedisURL(parsing: "redis://user:secret@host")
            Issue.record("accepted credentials")
        } catch let error as RedisBusError {
            #expect(error.message.contains("credentials are not supported"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func describesItselfCompletely() throws {
        #expect(try RedisURL(parsing: "redis://h").description == "redis://h:6379/0")
        #expect(try RedisURL(parsing: "redis://[::1]:1/2").description == "redis://[::1]:1/2")
    }

    @Test func busRefusesABadURLAtInit() {
        #expect(throws: RedisBusError.invalidURL) { try RedisBus(url: "redis://host:99999", logger: .init(label: "t")) }
    }
}
