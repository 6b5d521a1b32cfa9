import Foundation
import SocialTesting

/// Senders that keep writing into their chats on their own threads until
/// stopped, remembering what was acknowledged: the traffic of the fault tests.
final class Flow: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var acked: [String: [String]] = [:]  // guarded by `lock`
    private var threads: [Thread] = []

    /// Starts one thread per (client, chat), each sending every `pause` seconds.
    init(_ senders: [(client: TestClient, chat: String, prefix: String)], pause: Double = 0.05) {
        for sender in senders {
            let thread = Thread { [self] in
                var n = 0
                while !lock.withLock({ stopping }) {
                    let id = "\(sender.prefix)-\(n)"
                    n += 1
                    let reply = sender.client.ok("chat.send", ["chat_id": sender.chat, "text": "lap \(n)", "client_msg_id": id],
                                                 timeout: 30)
                    if reply != nil { lock.withLock { acked[sender.chat, default: []].append(id) } }
                    Thread.sleep(forTimeInterval: pause)
                }
            }
            threads.append(thread)
            thread.start()
        }
    }

    /// Stops the senders and waits for their last sends.
    func stop() {
        lock.withLock { stopping = true }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.05) }
    }

    /// The client message ids acknowledged in `chat`.
    func acknowledged(_ chat: String) -> [String] { lock.withLock { acked[chat] ?? [] } }
}
