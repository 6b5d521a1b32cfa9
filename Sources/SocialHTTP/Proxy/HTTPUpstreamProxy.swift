import Foundation
import Logging
import Metrics
import SocialCore
import SocialProtocol

/// The REST proxy: checks a call against the allowlist and the limits, then
/// makes it on a proxy worker thread with the caller's identity.
///
/// Forwarded headers: `Authorization: Bearer <the session's token>`,
/// `X-User-Id`, `X-Device-Id`, `X-Request-Id` (the call's own id, returned
/// to the client), `traceparent` (the command's span, so the upstream's span
/// is its child), `Accept: application/json` and, with a body,
/// `Content-Type: application/json`. Returned headers:
/// `HTTPUpstreamProxy.returnedHeaders`. Its log lines carry the command's
/// `request_id` and `trace_id` (`RequestContext`) and the call's id as
/// `upstream_request_id`.
///
/// Threads: `forward` from any task; it suspends while a worker makes the call.
public final class HTTPUpstreamProxy: UpstreamProxy, @unchecked Sendable {
    /// The response headers passed back to the client; the others are dropped.
    public static let returnedHeaders: [String] = [
        "content-type", "etag", "last-modified", "cache-control", "expires", "retry-after", "location",
    ]

    let settings: ProxySettings
    private let workers: HTTPWorkers
    private let pool: ConnectionPool
    let perUser: UserConcurrency
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    // `breakers` is only touched under `lock` (the reason for `@unchecked Sendable`).
    private let lock = NSLock()
    private var breakers: [String: CircuitBreaker]

    /// - Parameters:
    ///   - settings: upstreams, allowlist and limits.
    ///   - logger: upstream failures and breaker changes.
    ///   - clock: monotonic milliseconds for the breakers (tests may inject one).
    public init(settings: ProxySettings, logger: Logger, clock: @escaping @Sendable () -> Int64 = HTTPUpstreamProxy.monotonicMs) {
        self.settings = settings
        self.logger = logger
        self.clock = clock
        workers = HTTPWorkers(count: settings.workers, queueLimit: settings.workers * 4)
        pool = ConnectionPool(perUpstream: settings.idleConnectionsPerUpstream)
        perUser = UserConcurrency(limit: settings.maxPerUser)
        breakers = settings.upstreams.mapValues { _ in
            CircuitBreaker(failureThreshold: settings.breakerFailures, openMs: Int64(settings.breakerOpenMs))
        }
    }

    /// Milliseconds on a monotonic clock: the breakers' default clock.
    public static func monotonicMs() -> Int64 { ConnectionPool.nowMs() }

    public func forward(_ call: UpstreamCall) async throws -> UpstreamResponse {
        let start = ContinuousClock.now
        let service = settings.upstreams[call.service] == nil ? "unknown" : call.service
        var status = "internal"
        defer { Counter(label: "social_proxy_requests_total", dimensions: [("service", service), ("status", status)]).increment() }
        do {
            let (upstream, target) = try check(call)
            guard perUser.acquire(call.userId) else {
                throw ProxyFailure(.overloaded, "more than \(perUser.limit) proxied calls in flight for this user")
            }
            defer { perUser.release(call.userId) }
            let trial = try admit(upstream.name)
            let outcome = await send(call, to: upstream, target: target)
            Timer(label: "social_proxy_duration_seconds", dimensions: [("service", service)])
                .recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1)))
            settle(upstream.name, outcome, trial: trial)
            let response = try outcome.get()
            status = String(response.status)
            logger.debug("upstream call", metadata: [
                "service": .string(upstream.name), "method": .string(call.method), "status": .string(status),
                "upstream_request_id": .string(call.requestId),
                "duration_us": .stringConvertible(Int64((ContinuousClock.now - start) / .microseconds(1)))])
            return response
        } catch let failure as ProxyFailure {
            status = failure.code.rawValue
            throw failure
        }
    }

    /// The upstream and request target of an allowed call; throws `invalid_args` or `forbidden`.
    func check(_ call: UpstreamCall) throws(ProxyFailure) -> (Upstream, String) {
        guard let upstream = settings.upstreams[call.service] else {
            throw ProxyFailure(.invalidArgs, "service: unknown service \"\(call.service.prefix(64))\"")
        }
        guard AllowRule.knownMethods.contains(call.method) else {
            throw ProxyFailure(.invalidArgs, "method: must be one of \(AllowRule.knownMethods.sorted().joined(separator: ", "))")
        }
        let path = try ProxyPath(call.path)
        guard settings.rules[call.service, default: []].contains(where: { $0.allows(call.method, path.path) }) else {
            throw ProxyFailure(.forbidden, "\(call.method) \(path.path) is not allowed on \(call.service)")
        }
        if call.body != nil && !["POST", "PUT", "PATCH"].contains(call.method) {
            throw ProxyFailure(.invalidArgs, "body: only with POST, PUT and PATCH")
        }
        for value in [call.userId, call.deviceId, call.accessToken, call.requestId]
        where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw ProxyFailure(.forbidden, "the caller's identity cannot be forwarded in HTTP headers")
        }
        return (upstream, path.target(under: upstream.basePath))
    }

    /// Asks the service's breaker; true for the trial call of a half-open breaker.
    private func admit(_ name: String) throws(ProxyFailure) -> Bool {
        lock.lock()
        let decision = breakers[name]!.acquire(now: clock())
        lock.unlock()
        switch decision {
        case .allowed(let trial):
            return trial
        case .refused(let retryAfterMs):
            throw ProxyFailure(.unavailable, "\(name) is failing; calls to it are paused", retryAfterMs: max(1, retryAfterMs))
        }
    }

    /// Tells the breaker how the call went: no response, a timeout or a 5xx is a failure.
    private func settle(_ name: String, _ outcome: Result<UpstreamResponse, ProxyFailure>, trial: Bool) {
        let success: Bool?
        switch outcome {
        case .success(let response): success = response.status < 500
        case .failure(let failure) where failure.code == .tooLarge: success = true
        case .failure(let failure) where failure.code == .overloaded: success = nil  // never sent
        case .failure: success = false
        }
        lock.lock()
        let before = breakers[name]!.state
        if let success {
            breakers[name]!.record(success: success, trial: trial, now: clock())
        } else if trial {
            breakers[name]!.abandonTrial(now: clock())
        }
        let after = breakers[name]!.state
        lock.unlock()
        if case .open = after, before != after {
            logger.warning("upstream breaker opened", metadata: ["service": .string(name)])
        } else if case .closed = after, before == .halfOpen {
            logger.notice("upstream breaker closed", metadata: ["service": .string(name)])
        }
    }

    /// Makes the call on a worker before the deadline.
    private func send(_ call: UpstreamCall, to upstream: Upstream, target: String) async -> Result<UpstreamResponse, ProxyFailure> {
        let deadline = Deadline(afterMs: settings.timeoutMs)
        let settings = self.settings
        let pool = self.pool
        let trace = call.trace ?? .span(continuing: nil)
        let headers = [
            ("Authorization", "Bearer \(call.accessToken)"), ("X-User-Id", call.userId), ("X-Device-Id", call.deviceId),
            ("X-Request-Id", call.requestId), ("traceparent", trace.traceparent), ("Accept", "application/json"),
            ("Connection", "keep-alive"),
        ]
        let request = HTTPExchange.request(method: call.method, target: target, host: upstream.hostHeader,
                                           headers: headers, body: call.body)
        let isHead = call.method == "HEAD"
        let result = await workers.run { () -> Result<HTTPExchange.Response, HTTPClientError> in
            guard !deadline.isPast else { return .failure(.timedOut) }
            return Self.exchange(request, isHead: isHead, upstream: upstream, settings: settings, pool: pool, deadline: deadline)
        }
        guard let result else {
            return .failure(ProxyFailure(.overloaded, "the proxy has too many calls waiting; retry later"))
        }
        switch result {
        case .success(let response):
            var kept: [String: String] = [:]
            for name in Self.returnedHeaders { kept[name] = response.headers[name] }
            return .success(UpstreamResponse(status: response.status, headers: kept, body: response.body))
        case .failure(let error):
            logger.info("upstream call failed", metadata: [
                "service": .string(upstream.name), "upstream_request_id": .string(call.requestId),
                "error": .string("\(error)"),
            ])
            return .failure(Self.failure(error, upstream.name, settings))
        }
    }

    /// One exchange on a pooled or new connection; a pooled connection that
    /// the server closed while idle (nothing was read back) is replaced once. Worker thread.
    private static func exchange(_ request: [UInt8], isHead: Bool, upstream: Upstream, settings: ProxySettings,
                                 pool: ConnectionPool, deadline: Deadline) -> Result<HTTPExchange.Response, HTTPClientError> {
        var pooled = pool.take(upstream.name)
        while true {
            do throws(HTTPClientError) {
                let connection: HTTPConnection
                if let pooled {
                    connection = pooled
                } else {
                    connection = try HTTPConnection.connect(host: upstream.host, port: upstream.port,
                                                            connectTimeoutMs: settings.connectTimeoutMs, deadline: deadline)
                }
                try connection.write(request, deadline: deadline)
                let response = try HTTPExchange.readResponse(connection, isHead: isHead, maxBody: settings.maxResponseBytes,
                                                             deadline: deadline)
                if response.keepAlive && connection.buffer.isEmpty { pool.put(connection, upstream.name) }
                return .success(response)
            } catch {
                if case .closed = error, pooled != nil {
                    pooled = nil
                    continue
                }
                return .failure(error)
            }
        }
    }

    private static func failure(_ error: HTTPClientError, _ name: String, _ settings: ProxySettings) -> ProxyFailure {
        switch error {
        case .connectFailed: return ProxyFailure(.unavailable, "\(name) is unreachable")
        case .connectTimedOut(let ms): return ProxyFailure(.timeout, "\(name) did not accept a connection within \(ms) ms")
        case .timedOut: return ProxyFailure(.timeout, "\(name) did not answer within \(settings.timeoutMs) ms")
        case .closed: return ProxyFailure(.unavailable, "\(name) closed the connection without answering")
        case .malformed(let problem): return ProxyFailure(.unavailable, "\(name) sent a bad response (\(problem))")
        case .tooLarge(let limit): return ProxyFailure(.tooLarge, "\(name) answered more than \(limit) bytes")
        }
    }

    /// The breaker state of `service` (for tests and diagnostics).
    public func breakerState(_ service: String) -> CircuitBreaker.State? {
        lock.lock()
        defer { lock.unlock() }
        return breakers[service]?.state
    }
}
