import Foundation
import Testing
import SocialTesting

/// A client that stops reading while events pile up is closed with 4001,
/// without taking the gateway's memory or the other clients with it.
@Suite struct SlowConsumerTests {
    init() async throws { try await Fixture.prepare() }

    @Test func aClientThatStopsReadingIsClosedWith4001() throws {
        let gateway = try Fixture.gateway(["--send-queue-frames", "64", "--send-queue-bytes", "65536"])
        let alice = try Fixture.client(gateway, "alice")
        let group = try #require((alice.ok("group.create", ["title": "Firehose", "open": true])?["group"] as? [String: Any])?["group_id"] as? String)
        // Bob joins, then never reads again.
        let bob = try RawWebSocket(port: gateway.port, token: Fixture.token("bob"), timeout: 10)
        try bob.sendText(#"{"id":1,"op":"group.join","args":{"group_id":"\#(group)"}}"#)
        Thread.sleep(forTimeInterval: 0.3)
        // Carol reads everything and must keep getting it.
        let carol = try Fixture.client(gateway, "carol")
        #expect(carol.ok("group.join", ["group_id": group]) != nil)

        // Enough 3 KB messages to fill bob's socket buffers and then his queue,
        // sent from background threads while this one watches for the close.
        let text = String(repeating: "k", count: 3000)
        let writers = try (0..<4).map { try Fixture.client(gateway, "alice", device: "w\($0)") }
        let stop = Flag()
        let sending = DispatchGroup()
        for (w, writer) in writers.enumerated() {
            DispatchQueue.global().async(group: sending) {
                for i in 0..<2000 where !stop.isSet {
                    _ = writer.command("chat.send", ["chat_id": group, "text": text, "client_msg_id": "f\(w)-\(i)"])
                }
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while !gateway.logs.contains("slow consumer") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        stop.set()
        // Bob reads at once (before the gateway's 5 s close timeout): what was queued, then the close frame.
        var code: UInt16?
        while let frame = bob.next() {
            if frame.opcode == 8 { code = frame.closeCode; break }
        }
        sending.wait()
        #expect(code == 4001, "gateway log:\n\(gateway.logs.suffix(2000))")
        // Carol was not affected.
        #expect(carol.ok("ping") != nil)
        #expect(!carol.isClosed)
        #expect(gateway.isRunning)
    }
}


/// A flag set once, read by other threads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
