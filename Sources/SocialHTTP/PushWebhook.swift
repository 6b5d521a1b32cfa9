import Foundation
import Logging
import SocialCore
import SocialProtocol
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How the push webhook is called. Each field is a gateway setting (`--push-*`, see the README).
public struct PushWebhookSettings: Sendable {
    /// Where pushes are POSTed (the company's push service).
    public var url: URL
    /// Sent as `Authorization: Bearer <token>` when set.
    public var bearerToken: String?
    /// Attempts per push, the first included.
    public var attempts: Int = 4
    /// The wait before the second attempt; doubled for each later one (with ±20% jitter).
    public var initialBackoffMs: Int = 200
    /// The longest wait between attempts.
    public var maxBackoffMs: Int = 5_000
    /// How long one attempt may take.
    public var timeoutMs: Int = 5_000

    public init(url: URL, bearerToken: String? = nil) {
        self.url = url
        self.bearerToken = bearerToken
    }
}

/// The push webhook: POSTs each `PushRequest` as JSON with URLSession
/// (FoundationNetworking on Linux), retrying with exponential backoff.
///
/// A 2xx reply is success; a 4xx other than 408 and 429 is permanent (no
/// retry: the push service refused the request); 408, 429, 5xx, timeouts and
/// connection errors are retried until `attempts` runs out. The header
/// `Idempotency-Key: <user>:<first id>:<last id>` is the same on every
/// attempt, so the push service can drop a retry of a push it already took.
///
/// Every attempt also sends the request id and trace of what caused the push
/// (`RequestContext`: the backend API request or the client command):
/// `X-Request-Id` and `traceparent`, whose parent-id is the gateway's span of
/// that request. A push with none (the presence sweep's digest) gets a new
/// request id and trace. The webhook's log lines carry both.
///
/// Threads: any task; URLSession runs the calls on its own threads, and
/// waiting between attempts suspends the task instead of blocking a thread.
public final class PushWebhook: PushSender {
    let settings: PushWebhookSettings
    let session: URLSession
    let logger: Logger

    public init(settings: PushWebhookSettings, logger: Logger = Logger(label: "social.push")) {
        self.settings = settings
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(settings.timeoutMs) / 1000
        configuration.timeoutIntervalForResource = Double(settings.timeoutMs) / 1000
        session = URLSession(configuration: configuration)
        self.logger = logger
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ push: PushRequest) async -> Bool {
        let current = RequestContext.current
        let requestId = current.requestId ?? "push-" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
        let trace = current.trace ?? .span(continuing: nil)
        return await RequestContext.Snapshot(requestId: requestId, trace: trace).bind {
            await send(push, requestId: requestId, trace: trace)
        }
    }

    private func send(_ push: PushRequest, requestId: String, trace: TraceContext) async -> Bool {
        let body: Data
        do {
            body = try JSONEncoder().encode(push)
        } catch {
            logger.error("push webhook: cannot encode the request", metadata: ["error": "\(error)"])
            return false
        }
        let ids = push.notifications.map(\.id)
        let key = "\(push.userId):\(ids.first ?? 0):\(ids.last ?? 0)"
        var backoff = Double(settings.initialBackoffMs)
        for attempt in 1...max(1, settings.attempts) {
            switch await attemptOnce(body, key: key, requestId: requestId, traceparent: trace.traceparent) {
            case .sent:
                return true
            case .refused(let status):
                logger.warning("push webhook refused a push", metadata: ["user": "\(push.userId)", "status": "\(status)"])
                return false
            case .retry(let reason):
                logger.info("push webhook attempt failed", metadata: [
                    "user": "\(push.userId)", "attempt": "\(attempt)", "reason": "\(reason)",
                ])
            }
            guard attempt < settings.attempts else { break }
            let wait = min(backoff, Double(settings.maxBackoffMs)) * Double.random(in: 0.8...1.2)
            try? await Task.sleep(nanoseconds: UInt64(wait * 1_000_000))
            backoff *= 2
        }
        logger.warning("push webhook: every attempt failed", metadata: ["user": "\(push.userId)"])
        return false
    }

    private enum Attempt {
        case sent
        case refused(Int)
        case retry(String)
    }

    private func attemptOnce(_ body: Data, key: String, requestId: String, traceparent: String) async -> Attempt {
        var request = URLRequest(url: settings.url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = Double(settings.timeoutMs) / 1000
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(key, forHTTPHeaderField: "Idempotency-Key")
        request.setValue(requestId, forHTTPHeaderField: "X-Request-Id")
        request.setValue(traceparent, forHTTPHeaderField: "traceparent")
        if let token = settings.bearerToken { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let session = self.session
        return await withCheckedContinuation { (done: CheckedContinuation<Attempt, Never>) in
            session.dataTask(with: request) { _, response, error in
                if let error {
                    done.resume(returning: .retry("\(error.localizedDescription)"))
                    return
                }
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                switch status {
                case 200..<300: done.resume(returning: .sent)
                case 408, 429: done.resume(returning: .retry("status \(status)"))
                case 400..<500: done.resume(returning: .refused(status))
                default: done.resume(returning: .retry("status \(status)"))
                }
            }.resume()
        }
    }
}
