/// Where and how a client connects.
public struct ClientRequest: Sendable {
    public var host: String
    public var port: Int
    /// Path and query, e.g. `/ws?device_id=phone-1`.
    public var path: String
    public var tls: Bool
    /// Accept a self-signed or otherwise untrusted server certificate (tests, staging).
    public var allowInsecureTLS: Bool
    /// Extra handshake headers, e.g. `("Authorization", "Bearer …")`.
    public var headers: [(String, String)]
    public var origin: String?
    /// Offered subprotocol; nil offers none.
    public var subprotocol: String?

    public init(host: String = "127.0.0.1", port: Int, path: String = "/ws", tls: Bool = false,
                allowInsecureTLS: Bool = false, headers: [(String, String)] = [], origin: String? = nil,
                subprotocol: String? = "social.v1") {
        self.host = host
        self.port = port
        self.path = path
        self.tls = tls
        self.allowInsecureTLS = allowInsecureTLS
        self.headers = headers
        self.origin = origin
        self.subprotocol = subprotocol
    }
}

/// Receives a client connection's events, on the client loop's service thread.
/// Implementations must not block.
public protocol ClientDelegate: AnyObject {
    func clientOpened(_ connection: ClientConnection)
    /// A whole text frame arrived. A social.v1 server frame may hold several
    /// messages separated by `\n`: split it with `FrameBatch.messages(in:)`.
    func client(_ connection: ClientConnection, received frame: [UInt8])
    /// The connection closed. `code` is the peer's close code, nil when the
    /// socket dropped without one (1006 in browser terms).
    func clientClosed(_ connection: ClientConnection, code: UInt16?, reason: String)
    /// The connection never opened. `httpStatus` is the handshake's HTTP status when one came back.
    func clientFailed(_ connection: ClientConnection, error: String, httpStatus: Int?)
}
