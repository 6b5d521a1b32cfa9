import Foundation
import SocialLWS

/// A gateway's WebSocket address, `ws://host:port/path?query` or `wss://…`,
/// read once and turned into `ClientRequest`s (the CLI and the benchmark
/// take it from `--url`).
public struct GatewayTarget: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query, e.g. `/ws?device_id=x`.
    public var path: String
    public var tls: Bool

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - url: a `ws` or `wss` URL; the port defaults to 80 or 443, the path to `/ws`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "ws" || scheme == "wss" else {
            throw InvalidURL(description: "not a ws:// or wss:// URL: \(url)")
        }
        guard let host = components.host, !host.isEmpty else { throw InvalidURL(description: "no host in \(url)") }
        tls = scheme == "wss"
        // URLComponents keeps the brackets of an IPv6 literal; lws wants the bare address.
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (tls ? 443 : 80)
        let base = components.percentEncodedPath.isEmpty ? "/ws" : components.percentEncodedPath
        path = components.percentEncodedQuery.map { base + "?" + $0 } ?? base
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "wss" : "ws")://\(shownHost):\(port)\(path)"
    }

    /// The request for one connection.
    /// - Parameters:
    ///   - token: sent as `Authorization: Bearer`; nil sends none.
    ///   - deviceId: added as the `device_id` query parameter.
    ///   - allowInsecureTLS: accept a self-signed certificate (wss only).
    public func request(token: String?, deviceId: String? = nil, allowInsecureTLS: Bool = false) -> ClientRequest {
        var fullPath = path
        if let deviceId {
            let encoded = deviceId.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? deviceId
            fullPath += (fullPath.contains("?") ? "&" : "?") + "device_id=" + encoded
        }
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        return ClientRequest(host: host, port: port, path: fullPath, tls: tls,
                             allowInsecureTLS: tls && allowInsecureTLS, headers: headers)
    }
}
