import Foundation
import Logging
import SocialLWS
import SocialTesting

/// One interactive connection: a thread reads stdin and sends, another
/// prints what arrives; `run` returns the exit status once either side ends.
final class Console: @unchecked Sendable {
    struct Settings {
        var target: GatewayTarget
        var request: ClientRequest
        var connectTimeout: Double
        var wait: Double
        var linger: Double
        var echo: Bool
        var verbose: Bool
    }

    private let settings: Settings
    private let output = Output()
    private let pending = PendingReplies()
    private let outcome = Outcome()

    init(_ settings: Settings) { self.settings = settings }

    /// Connects, runs until `:quit`, end of input or the server's close, and returns the exit status.
    func run() -> Int32 {
        let loop: WebSocketClientLoop
        do {
            // libwebsockets' own warnings (a refused handshake, say) repeat what is printed below.
            var logger = Logger(label: "social.cli")
            logger.logLevel = settings.verbose ? .debug : .critical
            loop = try WebSocketClientLoop(deflate: false, maxConnections: 4, logger: logger)
        } catch {
            output.error("social-cli: \(error)")
            return 1
        }
        defer { loop.shutdown() }
        let client: TestClient
        do {
            client = try TestClient.connect(loop, settings.request, timeout: settings.connectTimeout)
        } catch let failure as TestClient.ConnectError {
            output.error("social-cli: cannot connect to \(settings.target): \(describe(failure))")
            return 1
        } catch {
            output.error("social-cli: cannot connect to \(settings.target): \(error)")
            return 1
        }
        output.error("connected to \(settings.target) (type :help for help)")
        Thread.detachNewThread { self.printFrames(client) }
        Thread.detachNewThread { self.readInput(client) }
        let status = outcome.wait()
        if !client.isClosed {
            client.close(code: 1000)
            _ = client.waitClosed(timeout: 2)
        }
        return status
    }

    /// Prints every frame until the connection closes. Its own thread.
    private func printFrames(_ client: TestClient) {
        while true {
            if let frame = client.nextRaw(timeout: 1, where: { _ in true }) {
                for message in ReceivedMessage.parse(frame: frame) {
                    output.line(message.line)
                    if case .reply(let id?, _) = message.kind { pending.remove(id) }
                }
            } else if let closed = client.waitClosed(timeout: 0) {
                // A close after `outcome` is settled is the one we asked for.
                if !outcome.isSettled { output.line(closeLine(code: closed.code, reason: closed.reason)) }
                pending.connectionClosed()
                outcome.settle(3)
                return
            }
        }
    }

    /// Sends each line until `:quit` or end of input, then waits for pending replies. Its own thread.
    private func readInput(_ client: TestClient) {
        var lastId = 0
        while let line = readLine(strippingNewline: true) {
            if outcome.isSettled { return }
            switch InputLine.parse(line, nextId: { lastId + 1 }) {
            case .nothing:
                continue
            case .help:
                output.line(Self.help)
            case .invalid(let problem):
                output.error("! \(problem)")
            case .frame(let text, let id):
                if let id {
                    lastId = max(lastId, id)
                    pending.add(id)
                }
                client.send(text)
                if settings.echo { output.line("> \(text)") }
            case .quit:
                finishInput()
                return
            }
        }
        finishInput()
    }

    private func finishInput() {
        let missing = pending.waitUntilEmpty(timeout: settings.wait)
        if settings.linger > 0 && !pending.isClosed { Thread.sleep(forTimeInterval: settings.linger) }
        if !missing.isEmpty && !pending.isClosed {
            output.error("! no reply within \(settings.wait)s to id \(missing.map(String.init).joined(separator: ", "))")
            outcome.settle(4)
        }
        outcome.settle(0)
    }

    /// The HTTP status and, for a loopback `ws://` gateway, the reason from
    /// the refusal's JSON body (lws does not hand the body to the client).
    private func describe(_ failure: TestClient.ConnectError) -> String {
        guard let status = failure.httpStatus else {
            let tlsHint = settings.target.tls && !settings.request.allowInsecureTLS && failure.message.contains("SSL")
            return failure.message + (tlsHint ? " (a self-signed certificate? --insecure accepts it)" : "")
        }
        var text = "HTTP \(status)"
        let target = settings.target
        if !target.tls, ["127.0.0.1", "localhost"].contains(target.host) {
            var request = "GET \(settings.request.path) HTTP/1.1\r\nHost: \(target.host):\(target.port)\r\n"
            request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            request += "Sec-WebSocket-Key: c29jaWFsLWNsaS1wcm9iZQ==\r\nSec-WebSocket-Protocol: social.v1\r\n"
            for (name, value) in settings.request.headers { request += "\(name): \(value)\r\n" }
            if let response = try? RawSocket.exchange(port: target.port, request: request + "\r\n"),
               response.status == status,
               let body = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any],
               let error = body["error"] as? [String: Any] {
                let code = error["code"] as? String ?? "?"
                text += " \(code): \(error["message"] as? String ?? "")"
            }
        }
        return text + " (\(failure.message))"
    }

    static let help = """
        Lines you can type:
          op key=value …         a command; values are JSON when they parse, else strings:
                                   chat.send chat_id=grp_1 text='hello there' client_msg_id=m1
                                   group.create title="Run club" open=true
                                   chat.history chat_id=grp_1 limit=20
                                   sync args='{"chats":[{"chat_id":"grp_1","seq":0}]}'
                                 ids count up from 1; args='{…}' gives the whole args object.
          {"id":7,"op":"ping"}   a JSON line is sent as is
          :raw TEXT              send TEXT verbatim (even if it is not JSON)
          :help                  this help
          :quit                  wait for pending replies (--wait), then close
        Printed: '> ' what was sent; '< reply ID ok|error {…}'; '< event NAME {…}'; '< closed CODE reason'.
        Ops: ping group.create group.invite group.join group.leave group.kick group.set_role
             group.transfer group.rename group.info groups.list chat.open_direct chats.list
             chat.send chat.edit chat.delete chat.react chat.history chat.read chat.typing sync
        """
}
