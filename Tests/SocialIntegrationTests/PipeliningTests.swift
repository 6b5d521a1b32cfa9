import Foundation
import Testing
import SocialTesting

/// Pipelined commands over a real socket: replies in arrival order, chat-log
/// changes applied in arrival order, a join that follows the chat before it
/// is stored, membership checked when the change is made.
@Suite struct PipeliningTests {
    init() async throws { try await Fixture.prepare() }

    /// The replies of `client`, in the order they arrive, until `count` came or the timeout.
    private func replies(_ client: TestClient, count: Int, timeout: Double = 20) -> [[String: Any]] {
        var out: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < count, let reply = client.next(timeout: max(0, deadline.timeIntervalSinceNow), where: {
            $0["id"] != nil && $0["event"] == nil
        }) {
            out.append(reply)
        }
        return out
    }

    private func send(_ client: TestClient, _ frame: [String: Any]) throws {
        client.send(Array(try JSONSerialization.data(withJSONObject: frame)))
    }

    private func seq(_ reply: [String: Any]) -> Int? {
        ((reply["ok"] as? [String: Any])?["message"] as? [String: Any])?["seq"] as? Int
    }

    /// `protocol/transcripts/pipelining.json`, replayed: every command written
    /// at once, every reply checked against the transcript, in order.
    @Test func theProtocolsPipeliningTranscriptHolds() throws {
        let transcript = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(
            fileURLWithPath: RepoPaths.root + "/protocol/transcripts/pipelining.json"))) as? [String: Any])
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let group = try #require((alice.ok("group.create", ["title": "Track Tuesday", "open": true])?["group"]
            as? [String: Any])?["group_id"] as? String)
        let joined = try #require(bob.ok("group.join", ["group_id": group])?["group"] as? [String: Any])
        let n = try #require(joined["seq"] as? Int)

        let commands = try #require(transcript["commands"] as? [Any])
        for command in commands {
            try send(bob, try #require(Transcript.fill(command, chat: group, n: n) as? [String: Any]))
        }
        let expected = try #require(transcript["replies"] as? [Any]).map { Transcript.fill($0, chat: group, n: n) }
        let got = replies(bob, count: expected.count)
        #expect(got.count == expected.count, "one reply per command")
        for (reply, want) in zip(got, expected) {
            let mismatch = Transcript.mismatch(want, reply, path: "reply")
            #expect(mismatch == nil, "\(mismatch ?? "")")
        }
    }

    /// One connection keeps 60 sends in flight: they are stored in arrival
    /// order, with consecutive seqs, and answered in that order.
    @Test func sendsInFlightOnOneConnectionKeepTheirOrder() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Intervals"])?["group"] as? [String: Any])?["group_id"] as? String)
        let count = 60
        for i in 0..<count {
            try send(alice, ["id": 100 + i, "op": "chat.send",
                             "args": ["chat_id": group, "text": "rep \(i)", "client_msg_id": "rep-\(i)"]])
        }
        let got = replies(alice, count: count)
        #expect(got.map { $0["id"] as? Int } == (0..<count).map { 100 + $0 })
        let seqs = got.compactMap(seq)
        #expect(seqs.count == count, "every send was stored")
        #expect(seqs == Array((seqs.first ?? 0)..<((seqs.first ?? 0) + count)), "consecutive, in arrival order")
        let texts = got.map { (($0["ok"] as? [String: Any])?["message"] as? [String: Any])?["text"] as? String }
        #expect(texts == (0..<count).map { "rep \($0)" })
    }

    /// The join race: while the owner writes as fast as they can, a user
    /// joins; every message stored after the join reaches the new member
    /// live, in order, with no gap, without a `sync`.
    @Test func aJoinFollowedAtOnceByAnotherMembersMessageIsDeliveredLive() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let group = try #require((alice.ok("group.create", ["title": "Hill repeats", "open": true])?["group"]
            as? [String: Any])?["group_id"] as? String)
        for round in 0..<5 {
            // Alice pipelines a burst; Bob's join lands in the middle of it.
            for i in 0..<20 {
                try send(alice, ["id": 1000 * round + i, "op": "chat.send",
                                 "args": ["chat_id": group, "text": "r\(round) m\(i)", "client_msg_id": "r\(round)-\(i)"]])
                if i == 3, round == 0 { try send(bob, ["id": 1, "op": "group.join", "args": ["group_id": group]]) }
            }
            // Right after the join's reply, Alice writes again at once.
            _ = replies(alice, count: 20)
        }
        let joinReply = try #require(bob.next(where: { ($0["id"] as? Int) == 1 }))
        let joinSeq = try #require(((joinReply["ok"] as? [String: Any])?["group"] as? [String: Any])?["seq"] as? Int)
        let lastReply = try #require(alice.command("chat.send", ["chat_id": group, "text": "last"]))
        let lastSeq = try #require(seq(lastReply))
        var seen: [Int] = []
        while seen.last != lastSeq, let event = bob.event("message.new", timeout: 10) {
            if let s = (event["message"] as? [String: Any])?["seq"] as? Int { seen.append(s) }
        }
        #expect(!seen.isEmpty)
        #expect(seen == Array((joinSeq + 1)...lastSeq), "every message after the join, live, in order")
    }

    /// Sends queued behind their sender's removal: each is refused when it is
    /// applied, not stored, and every refusal comes after the last stored one.
    @Test func sendsQueuedWhileTheSenderIsKickedAreRefusedAndNotStored() throws {
        let gateway = try Fixture.gateway()
        let alice = try Fixture.client(gateway, "alice")
        let bob = try Fixture.client(gateway, "bob")
        let group = try #require((alice.ok("group.create", ["title": "Sprints", "open": true])?["group"]
            as? [String: Any])?["group_id"] as? String)
        #expect(bob.ok("group.join", ["group_id": group]) != nil)
        let count = 60
        // Each send near the longest text (4 KiB), so the gateway reads about
        // two of bob's per loop turn (it reads at most 8 KiB from a socket in
        // one turn), and the sends after alice's kick (sent after the 11th)
        // go in bursts of 5, 2 ms apart: the kick checks both members' roles
        // before its change is queued, and on a fast machine all 60 sends
        // sent at once were read, and stored, before that (3 runs in 10
        // failed so). A burst's sends are in flight together when the kick lands.
        let padding = String(repeating: "·", count: 1_990)
        for i in 0..<count {
            try send(bob, ["id": 10 + i, "op": "chat.send", "args": ["chat_id": group, "text": "b\(i) \(padding)", "client_msg_id": "b\(i)"]])
            if i == 10 { try send(alice, ["id": 5, "op": "group.kick", "args": ["group_id": group, "user_id": "bob"]]) }
            if i >= 10, i % 5 == 4 { Thread.sleep(forTimeInterval: 0.002) }
        }
        let got = replies(bob, count: count)
        #expect(got.count == count)
        let codes = got.map { ($0["error"] as? [String: Any])?["code"] as? String ?? "ok" }
        #expect(Set(codes).isSubset(of: ["ok", "forbidden"]), "\(Set(codes))")
        let firstRefused = codes.firstIndex(of: "forbidden") ?? count
        #expect(codes[firstRefused...].allSatisfy { $0 == "forbidden" }, "once kicked, every later send is refused")
        #expect(firstRefused < count, "the kick took effect while sends were queued")
        #expect(alice.next(where: { ($0["id"] as? Int) == 5 })?["ok"] != nil)

        let history = try #require(alice.ok("chat.history", ["chat_id": group, "limit": 100])?["messages"] as? [[String: Any]])
        let stored = history.compactMap { $0["client_msg_id"] as? String }
        #expect(stored == (0..<firstRefused).map { "b\($0)" }, "exactly the accepted sends are stored")
    }
}

/// Reading `protocol/transcripts/*.json` (see `reading` in each file).
enum Transcript {
    /// Replaces `$chat` and "N"/"N+k" placeholders.
    static func fill(_ value: Any, chat: String, n: Int) -> Any {
        switch value {
        case let object as [String: Any]: return object.mapValues { fill($0, chat: chat, n: n) }
        case let array as [Any]: return array.map { fill($0, chat: chat, n: n) }
        case let text as String where text == "$chat": return chat
        case let text as String where text == "N": return n
        case let text as String where text.hasPrefix("N+"): return n + (Int(text.dropFirst(2)) ?? 0)
        default: return value
        }
    }

    /// Where `actual` does not have what `expected` lists; nil when it does.
    static func mismatch(_ expected: Any, _ actual: Any?, path: String) -> String? {
        switch expected {
        case let object as [String: Any]:
            guard let actual = actual as? [String: Any] else { return "\(path): expected an object, got \(String(describing: actual))" }
            for (key, value) in object {
                if let problem = mismatch(value, actual[key], path: "\(path).\(key)") { return problem }
            }
            return nil
        case let array as [Any]:
            guard let actual = actual as? [Any], actual.count == array.count else {
                return "\(path): expected \(array.count) elements, got \(String(describing: actual))"
            }
            for (i, element) in array.enumerated() {
                if let problem = mismatch(element, actual[i], path: "\(path)[\(i)]") { return problem }
            }
            return nil
        case let number as Int:
            return (actual as? Int) == number ? nil : "\(path): expected \(number), got \(String(describing: actual))"
        case let flag as Bool:
            return (actual as? Bool) == flag ? nil : "\(path): expected \(flag), got \(String(describing: actual))"
        case let text as String:
            return (actual as? String) == text ? nil : "\(path): expected \(text), got \(String(describing: actual))"
        default:
            return nil
        }
    }
}
