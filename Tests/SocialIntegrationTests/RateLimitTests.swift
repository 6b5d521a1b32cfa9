import Foundation
import Testing
import SocialTesting

/// Command rate limits over a real socket: `rate_limited` with
/// `retry_after_ms`, recovery after waiting, and 4004 for a client that keeps
/// flooding. Commands are pipelined (sent without waiting for replies), so
/// the limit is crossed however slowly a loaded machine runs them.
@Suite struct RateLimitTests {
    init() async throws { try await Fixture.prepare() }

    /// Sends `count` `chat.send` commands at once (ids from `firstId`) and
    /// returns their replies by id; a missing reply is absent.
    static func flood(_ client: TestClient, chat: String, count: Int, firstId: Int) -> [Int: [String: Any]] {
        for i in 0..<count {
            client.send(#"{"id":\#(firstId + i),"op":"chat.send","args":{"chat_id":"\#(chat)","text":"interval \#(i)"}}"#)
        }
        var replies: [Int: [String: Any]] = [:]
        for _ in 0..<count {
            guard let reply = client.next(timeout: 20, where: { ($0["id"] as? Int).map { $0 >= firstId && $0 < firstId + count } ?? false })
            else { break }
            replies[reply["id"] as! Int] = reply
        }
        return replies
    }

    @Test func aSenderOverTheLimitIsToldWhenToRetryAndRecovers() throws {
        let gateway = try Fixture.gateway(["--rate-messages", "2/s,burst=3", "--rate-flood-rejections", "100",
                                           "--log-level", "debug"])
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Track Tuesdays"])?["group"] as? [String: Any])?["group_id"] as? String)

        let replies = Self.flood(alice, chat: group, count: 12, firstId: 100)
        #expect(replies.count == 12, "one reply per command")
        let errors = replies.values.compactMap { $0["error"] as? [String: Any] }
        let stored = replies.values.filter { $0["ok"] != nil }.count
        #expect(stored >= 3, "the burst passes")
        #expect(!errors.isEmpty, "12 sends at once exceed a burst of 3")
        #expect(stored + errors.count == 12)
        for error in errors {
            #expect(error["code"] as? String == "rate_limited")
            #expect(error["temporary"] as? Bool == true)
            let wait = try #require(error["retry_after_ms"] as? Int)
            #expect(wait >= 1 && wait <= 500, "2 per second: a token within 500 ms")
        }
        #expect(!alice.isClosed)

        // Waiting as told: the next send is stored.
        let wait = errors.compactMap { $0["retry_after_ms"] as? Int }.max() ?? 500
        Thread.sleep(forTimeInterval: Double(wait) / 1000 + 0.05)
        #expect(alice.ok("chat.send", ["chat_id": group, "text": "after the pause"]) != nil)
        // Other commands were never limited by the message bucket.
        #expect(alice.ok("chat.history", ["chat_id": group]) != nil)
        // The dispatcher's log line carries the command's request id (`<session>-<command id>`).
        #expect(gateway.logs.contains("request_id="), "gateway log:\n\(gateway.logs.suffix(2000))")
    }

    @Test func aClientThatKeepsFloodingIsClosedWith4004() throws {
        // One message a minute after a burst of 2: no refill during the test, so the commands that pass
        // and the one that closes are known: 1000 and 1001 pass, 1002–1006 are rejected, 1006 closes.
        let gateway = try Fixture.gateway(["--rate-messages", "1/m,burst=2", "--rate-flood-rejections", "5",
                                           "--rate-flood-window", "10"])
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Firehose"])?["group"] as? [String: Any])?["group_id"] as? String)
        let bob = try Fixture.client(gateway, "bob")

        let replies = Self.flood(alice, chat: group, count: 30, firstId: 1000)
        let closed = try #require(alice.waitClosed(timeout: 10), "the flooding client is closed")
        #expect(closed.code == 4004, "close: \(closed)")
        // The command that closed it got its rate_limited reply just before the close frame (replies
        // still queued before it may be dropped), and nothing after it ran.
        let farewell = try #require(replies[1006], "replies: \(replies.keys.sorted())")
        #expect((farewell["error"] as? [String: Any])?["code"] as? String == "rate_limited")
        #expect(replies.keys.allSatisfy { $0 <= 1006 }, "replies: \(replies.keys.sorted())")
        for id in 1002...1005 {
            if let reply = replies[id] { #expect((reply["error"] as? [String: Any])?["code"] as? String == "rate_limited") }
        }
        // Others are not affected, and the node still serves.
        #expect(bob.ok("ping") != nil)
        #expect(!bob.isClosed)
        #expect(gateway.isRunning)
        // The reconnecting client starts with full buckets.
        let again = try Fixture.client(gateway, "alice", device: "phone")
        #expect(again.ok("chat.send", ["chat_id": group, "text": "calmer now"]) != nil)
    }

    @Test func defaultLimitsLetAFastSenderThrough() throws {
        // 60 pipelined sends from one session, far past what a person types: the defaults
        // (100/s, burst 1000) must not reject any of them.
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Relay"])?["group"] as? [String: Any])?["group_id"] as? String)
        let replies = Self.flood(alice, chat: group, count: 60, firstId: 10)
        #expect(replies.count == 60)
        #expect(replies.values.allSatisfy { $0["ok"] != nil }, "\(replies.values.compactMap { $0["error"] })")
    }
}
