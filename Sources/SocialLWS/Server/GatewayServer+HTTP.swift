import CGatewayShims
import CLibWebSockets
import Foundation
import SocialAuth
import SocialCore
import SocialProtocol

extension GatewayServer {
    /// A request target (path and query, as lws decodes them) of this many
    /// bytes or more gets 414: lws cuts it there (`sg_token_limits`).
    static let maxRequestTargetBytes = 8192
    /// lws's space for a request head (the request target, header values,
    /// the names of headers it does not know): a head that does not fit, or
    /// has more fields than lws's table holds (about 90, query arguments
    /// included), gets 431 as lws closes the connection (loop.c; without TLS
    /// only: with TLS it is closed unanswered).
    static let maxRequestHeadBytes = 16384

    /// Plain HTTP requests: health, readiness, metrics, and the backend API
    /// under `/api/` (see `GatewayServer+API`). Service thread.
    func serveHTTP(_ wsi: OpaquePointer, path: String) -> Int32 {
        socketBudget.requestStarted(wsi)
        if let problem = requestHeadProblem(wsi) {
            if writeProblem(wsi, problem.response()) != 0 { return -1 }
            return completeTransaction(wsi)
        }
        if path.hasPrefix(APIGate.prefix) { return startAPI(wsi, path: path) }
        let isGet = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0
        if isGet, path == "/metrics", let metrics {
            publishCounts()  // what this thread counted since the last tick, too
            let text = metrics()
            let rc = text.withUnsafeBufferPointer {
                sg_http_respond(wsi, 200, "text/plain; version=0.0.4", $0.baseAddress, $0.count, nil, nil)
            }
            if rc != 0 { return -1 }
            return completeTransaction(wsi)
        }
        let status: UInt32
        let body: String
        switch (isGet, path) {
        case (true, "/healthz"):
            status = 200
            body = #"{"status":"ok"}"#
        case (true, "/readyz"):
            (status, body) = readyz()
        case (true, HandshakeGate.path):
            status = 426
            body = #"{"error":{"code":"upgrade_required","message":"connect with a WebSocket client"}}"#
        case (false, _):
            status = 405
            body = #"{"error":{"code":"method_not_allowed","message":"only GET is served here"}}"#
        default:
            status = 404
            body = #"{"error":{"code":"not_found","message":"no such path"}}"#
        }
        if respond(wsi, status: status, body: body) != 0 { return -1 }
        return completeTransaction(wsi)
    }

    /// An HTTP response is written: lws closes the connection (-1) or keeps
    /// it for the next request, half-open again until that request's head
    /// is in. Service thread.
    func completeTransaction(_ wsi: OpaquePointer) -> Int32 {
        guard lws_http_transaction_completed(wsi) == 0 else { return -1 }
        socketBudget.idle(wsi)
        return 0
    }

    /// 414 for a request target that reached `maxRequestTargetBytes`; nil
    /// otherwise (a head too large never reaches a callback: see
    /// `requestHeadOverflowed`). Service thread.
    func requestHeadProblem(_ wsi: OpaquePointer) -> APIProblem? {
        let target = Self.targetTokens.reduce(0) { $0 + Int(lws_hdr_total_length(wsi, $1)) }
        guard target >= Self.maxRequestTargetBytes else { return nil }
        return APIProblem(status: 414, title: "URI Too Long",
                          detail: "the request target (path and query) has \(Self.maxRequestTargetBytes) bytes or more")
    }

    /// The tokens of the request target: the method's path, the query arguments.
    static let targetTokens: [lws_token_indexes] = [
        WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_PUT_URI, WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI,
        WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_HTTP_URI_ARGS,
    ]

    /// lws gave up on a request head (it filled lws's header space, or had
    /// more fields than lws holds) and closed the connection, answered 431
    /// by the loop; counted (`social_request_heads_too_large_total`). Service thread.
    func requestHeadOverflowed(_ wsi: OpaquePointer) {
        guard socketBudget.isHalfOpen(wsi) else { return }
        counts.requestHeadsTooLarge += 1
    }

    /// Writes a problem response (RFC 9457). Service thread.
    @discardableResult
    func writeProblem(_ wsi: OpaquePointer, _ response: APIResponse) -> Int32 {
        response.body.withUnsafeBufferPointer {
            sg_http_respond(wsi, UInt32(response.status), response.contentType, $0.baseAddress, $0.count, nil, nil)
        }
    }

    /// `/readyz`: 200 when every backend answered its last probe in time,
    /// else 503; the body names each backend, and why one is not ready:
    /// `{"status":"not_ready","backends":[{"name":"mongodb","ready":false,"reason":"…"},…]}`.
    /// 503 `draining` while the node drains. Service thread.
    func readyz() -> (UInt32, String) {
        let backends = readiness.report(now: monotonicMillis())
        let ready = backends.allSatisfy(\.ready)
        let state = draining ? "draining" : ready ? "ready" : "not_ready"
        let body = String(decoding: Codec.encode(ReadyzBody(status: state, backends: backends, busDown: busDown)), as: UTF8.self)
        return (!draining && ready ? 200 : 503, body)
    }

    /// The shards of the bus that are down (`bus_down` in `/readyz`), or nil when none is.
    private var busDown: [String]? {
        let down = bus.health.down.map(\.name)
        return down.isEmpty ? nil : down
    }

    @discardableResult
    func respond(_ wsi: OpaquePointer, status: UInt32, body: String, header: (String, String)? = nil) -> Int32 {
        let bytes = Array(body.utf8)
        return bytes.withUnsafeBufferPointer { buf in
            sg_http_respond(wsi, status, "application/json", buf.baseAddress, buf.count,
                            header?.0, header?.1)
        }
    }

    /// Decides a WebSocket upgrade before it happens. Returning 1 means the
    /// refusal was written (lws completes the transaction). Service thread.
    func confirmUpgrade(_ wsi: OpaquePointer) -> Int32 {
        socketBudget.requestStarted(wsi)
        guard let refusal = upgradeRefusal(wsi) else { return 0 }
        counts.handshakesRejected += 1
        if refusal.status != 503 {  // full or draining: one line per refusal would flood the log
            logger.info("handshake refused", metadata: [
                "status": "\(refusal.status)", "code": "\(refusal.code)", "reason": "\(refusal.message)"])
        }
        let body = String(decoding: Codec.encode(HandshakeError(error: .init(code: refusal.code, message: refusal.message))),
                          as: UTF8.self)
        let challenge = refusal.status == 401 ? ("WWW-Authenticate:", #"Bearer error="invalid_token""#) : nil
        respond(wsi, status: refusal.status, body: body, header: challenge)
        socketBudget.idle(wsi)  // if lws keeps the connection for another request
        return 1
    }

    /// Why an upgrade is refused (protocol/close-codes.md, "HTTP statuses of
    /// the handshake"), or nil to accept it (its identity then waits in
    /// `pendingUpgrades` for `established`). Service thread.
    private func upgradeRefusal(_ wsi: OpaquePointer) -> (status: UInt32, code: String, message: String)? {
        if let problem = requestHeadProblem(wsi) {
            return (UInt32(problem.status), "uri_too_long", problem.detail)
        }
        if draining {
            return (503, "shutting_down", "this node is draining; reconnect with backoff")
        }
        if sessions.count >= maxSessions {
            return (503, "full", "this node holds all the connections it may; reconnect with backoff")
        }
        let request = HandshakeRequest(
            path: header(wsi, WSI_TOKEN_GET_URI) ?? "",
            authorization: header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION),
            accessTokenQuery: queryArg(wsi, "access_token"),
            deviceIdQuery: queryArg(wsi, "device_id"),
            origin: header(wsi, WSI_TOKEN_ORIGIN),
            version: header(wsi, WSI_TOKEN_VERSION),
            protocols: header(wsi, WSI_TOKEN_PROTOCOL))
        switch gate.evaluate(request, now: Date().timeIntervalSince1970) {
        case .accept(let identity, let deviceId):
            pendingUpgrades[wsi] = (identity, deviceId)
            return nil
        case .reject(let status, let code, let message):
            return (status, code, message)
        }
    }

    /// A request header, or nil when absent. Service thread.
    func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = lws_hdr_total_length(wsi, token)
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard lws_hdr_copy(wsi, &buffer, Int32(buffer.count), token) >= 0 else { return nil }
        return String(cString: buffer)
    }

    /// A URL query argument (`name=value`), percent-decoded. Service thread.
    func queryArg(_ wsi: OpaquePointer, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 8192)
        guard let value = lws_get_urlarg_by_name(wsi, name + "=", &buffer, Int32(buffer.count)) else { return nil }
        let raw = String(cString: value)
        return raw.removingPercentEncoding ?? raw
    }
}

/// The JSON body of `/readyz`.
private struct ReadyzBody: Encodable {
    let status: String
    let backends: [BackendStatus]
    /// Shards of the bus that are down, when some are (omitted otherwise).
    let busDown: [String]?

    enum CodingKeys: String, CodingKey {
        case status, backends
        case busDown = "bus_down"
    }
}

/// The JSON body of a refused handshake.
private struct HandshakeError: Encodable {
    struct Body: Encodable {
        let code: String
        let message: String
    }
    let error: Body
}
