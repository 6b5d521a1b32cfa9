import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SocialTesting

/// Creates the `bots` scenario's bot accounts through the gateway's backend
/// API (`POST /api/v1/bots`, scope `social:admin`), as a backend would, and
/// disables them after the run. Plain HTTP/1.1, one connection per call,
/// blocking: it runs on the coordinator before the workers start and after
/// they ended, never on a client loop's thread.
struct BotProvisioner {
    let host: String
    let port: Int
    /// A client-credentials token with scope `social:admin`.
    let token: String

    var endpoint: String { "http://\(host):\(port)/api/v1/bots" }

    /// - Parameter url: the first gateway's WebSocket URL (`ws://` to an IPv4 address); the API is on the same port.
    init(url: String, token: String) throws {
        let target = try GatewayTarget(url: url)
        host = target.host
        port = target.port
        self.token = token
    }

    static func isIPv4(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }

    /// Creates `count` bots with the default scopes; returns their ids and the secrets the API shows once.
    /// When one fails, those already created are disabled before the error is thrown.
    func create(count: Int, namePrefix: String, log: (String) -> Void) throws -> [Plan.BotAccount] {
        var created: [Plan.BotAccount] = []
        do {
            for i in 0..<count {
                let body = try JSONSerialization.data(withJSONObject: ["name": "\(namePrefix) b\(i)"])
                let response = try call("POST", "/api/v1/bots", body: String(decoding: body, as: UTF8.self))
                guard response.status == 201, let json = response.json, let bot = json["bot"] as? [String: Any],
                      let id = bot["id"] as? String, let secret = json["secret"] as? String else {
                    throw LoadTestError("creating bot \(i) failed: HTTP \(response.status) \(response.body.prefix(300))")
                }
                created.append(Plan.BotAccount(id: id, secret: secret))
            }
        } catch {
            disable(created.map(\.id), log: log)
            throw error
        }
        return created
    }

    /// Disables the run's bots (their live sessions close with 4003); failures are logged, not thrown.
    func disable(_ ids: [String], log: (String) -> Void) {
        var failed = 0
        for id in ids {
            let response = try? call("POST", "/api/v1/bots/\(id)/disable", body: nil)
            if let status = response?.status, (200..<300).contains(status) { continue }
            failed += 1
        }
        if failed > 0 { log("could not disable \(failed) of \(ids.count) bots of this run") }
    }

    private func call(_ method: String, _ path: String, body: String?) throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\n"
        if body != nil { request += "Content-Type: application/json\r\n" }
        request += "Content-Length: \((body ?? "").utf8.count)\r\n"
        let socket = try RawSocket(host: host, port: port, timeout: 10)
        try socket.send(request + "\r\n" + (body ?? ""))
        return try RawSocket.parse(socket.receiveAll())
    }
}
