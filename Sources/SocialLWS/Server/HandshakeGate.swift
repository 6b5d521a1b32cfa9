import Foundation
import SocialAuth
import SocialProtocol

/// What the handshake carried, read off the upgrade request on the lws thread.
struct HandshakeRequest: Equatable {
    var path: String
    var authorization: String?
    var accessTokenQuery: String?
    var deviceIdQuery: String?
    var origin: String?
    var version: String?
    var protocols: String?
}

enum HandshakeDecision: Equatable {
    case accept(Identity, deviceId: String?)
    case reject(status: UInt32, code: String, message: String)
}

/// Decides an upgrade before it happens: path, WebSocket version, subprotocol,
/// Origin allowlist, then the access token. No I/O, so it is tested without sockets.
struct HandshakeGate: Sendable {
    let verifier: TokenVerifier
    let allowedOrigins: Set<String>
    /// Bot accounts, for `Authorization: Bot <bot_id>:<secret>`; nil refuses bot credentials.
    var bots: BotCredentials? = nil

    static let path = "/ws"

    /// What follows `scheme` (lowercase ASCII, ending in a space) at the
    /// start of an `Authorization` header, matched without regard to ASCII
    /// case; nil when the header does not start with it or has nothing after
    /// it. Compares bytes: a `String`'s `count` and `prefix` break it into
    /// grapheme clusters, a cost on every handshake.
    static func credentials(_ header: String, scheme: String) -> Substring? {
        let bytes = header.utf8
        var index = bytes.startIndex
        for expected in scheme.utf8 {
            guard index < bytes.endIndex else { return nil }
            let byte = bytes[index]
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
            guard lower == expected else { return nil }
            index = bytes.index(after: index)
        }
        guard index < bytes.endIndex else { return nil }
        return Substring(bytes[index...])
    }

    func evaluate(_ request: HandshakeRequest, now: Double) -> HandshakeDecision {
        guard request.path == Self.path else {
            return .reject(status: 404, code: "not_found", message: "WebSocket endpoint is \(Self.path)")
        }
        guard request.version == "13" else {
            return .reject(status: 400, code: "bad_version", message: "Sec-WebSocket-Version must be 13")
        }
        if let offered = request.protocols {
            let names = offered.split(separator: ",").map { trimmingOWS($0) }
            guard names.contains(ProtocolVersion.v1) else {
                return .reject(status: 400, code: "bad_subprotocol",
                               message: "unsupported subprotocol; this server speaks \(ProtocolVersion.v1)")
            }
        }
        if !allowedOrigins.isEmpty, let origin = request.origin, !allowedOrigins.contains(origin) {
            return .reject(status: 403, code: "forbidden_origin", message: "origin \(origin) is not allowed")
        }
        var deviceId: String?
        if let device = request.deviceIdQuery {
            guard Self.isValidDeviceId(device) else {
                return .reject(status: 400, code: "bad_device_id", message: "device_id must be 1-64 of [A-Za-z0-9_.:-]")
            }
            deviceId = device
        }
        let token: String
        if let header = request.authorization, let credentials = Self.credentials(header, scheme: "bot ") {
            guard let bots else {
                return .reject(status: 401, code: "unauthorized", message: "bot accounts are not enabled on this gateway")
            }
            switch bots.verify(trimmingOWS(credentials)) {
            case .success(let identity):
                return .accept(identity, deviceId: identity.deviceId)
            case .failure(let failure):
                return .reject(status: 401, code: "unauthorized", message: failure.description)
            }
        } else if let header = request.authorization {
            guard let credentials = Self.credentials(header, scheme: "bearer ") else {
                return .reject(status: 401, code: "unauthorized", message: "Authorization must be Bearer <token>")
            }
            token = trimmingOWS(credentials)
        } else if let query = request.accessTokenQuery, !query.isEmpty {
            token = query
        } else {
            return .reject(status: 401, code: "unauthorized", message: AuthFailure.missingToken.description)
        }
        switch verifier.verify(token, now: now) {
        case .success(let identity):
            return .accept(identity, deviceId: identity.deviceId ?? deviceId)
        case .failure(let failure):
            return .reject(status: 401, code: "unauthorized", message: failure.description)
        }
    }

    static func isValidDeviceId(_ id: String) -> Bool {
        guard (1...64).contains(id.utf8.count) else { return false }
        return id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
        }
    }
}

/// `text` without the spaces and tabs HTTP allows around a header value's
/// parts (RFC 9110 "OWS"). Foundation's `trimmingCharacters` went through
/// `NSString`: a few microseconds per handshake.
func trimmingOWS(_ text: Substring) -> String {
    let bytes = text.utf8
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
    while end > start {
        let last = bytes.index(before: end)
        guard bytes[last] == 0x20 || bytes[last] == 0x09 else { break }
        end = last
    }
    return String(text[start..<end])
}
