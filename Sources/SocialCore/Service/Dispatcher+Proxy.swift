import SocialProtocol

// The REST proxy: `proxy.request` forwards a call to the training or profile
// service with the caller's identity. Who may call is decided here; the
// allowlist, the limits and the HTTP are the `UpstreamProxy`'s.

extension Dispatcher {
    /// `proxy.request`: people only (a bot has no user token to forward).
    func proxyRequest(_ args: ProxyRequestArgs, _ caller: Caller) async throws -> ProxyResult {
        guard caller.kind == .user, let token = caller.accessToken else {
            throw ServiceError.forbidden("bots may not use the REST proxy")
        }
        guard let proxy else {
            throw ServiceError.invalidArgs("service", "no upstream service is configured on this gateway")
        }
        var body: [UInt8]?
        if let value = args.body, value != .null { body = Codec.encode(value) }
        let requestId = Self.proxyRequestId()
        // The upstream's span is a child of the command's: its traceparent names the command's span.
        let call = UpstreamCall(service: args.service, method: args.method, path: args.path, body: body,
                                userId: caller.userId, deviceId: caller.deviceId, accessToken: token,
                                requestId: requestId, trace: RequestContext.trace)
        return Self.proxyResult(try await proxy.forward(call), requestId: requestId)
    }

    /// The reply for an upstream response: JSON bodies as JSON, text as
    /// text, anything else left out (its content type stays in `headers`).
    static func proxyResult(_ response: UpstreamResponse, requestId: String) -> ProxyResult {
        var result = ProxyResult(status: response.status, headers: response.headers, requestId: requestId)
        guard !response.body.isEmpty else { return result }
        let type = (response.headers["content-type"] ?? "").lowercased()
        let mime = String(type.prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" })
        let isJSON = mime == "application/json" || mime.hasSuffix("+json")
        if isJSON, let value = try? Codec.decode(JSONValue.self, from: response.body) {
            result.body = value
        } else if isJSON || mime.hasPrefix("text/") {
            let text = String(decoding: response.body, as: UTF8.self)
            if Array(text.utf8) == response.body { result.text = text }
        }
        return result
    }

    /// 128 random bits in hex: unique enough to find one call in upstream logs.
    static func proxyRequestId() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
