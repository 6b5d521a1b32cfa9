import Metrics
import SocialProtocol

extension Dispatcher {
    /// The error reply (and the close, for a flooding client) of a command
    /// over its rate limits; nil when it may run. No actor hop when every
    /// limit is off.
    func rateLimitRejection(_ header: CommandHeader, _ caller: Caller) async -> CommandOutcome? {
        guard let rateLimits else { return nil }
        let decision = await rateLimits.admit(header.op, sessionId: caller.sessionId, now: clock())
        let rateClass: RateClass
        let retryAfterMs: Int64
        let close: Bool
        switch decision {
        case .admit: return nil
        case .reject(let limiting, let wait): (rateClass, retryAfterMs, close) = (limiting, wait, false)
        case .close(let limiting, let wait): (rateClass, retryAfterMs, close) = (limiting, wait, true)
        }
        Self.rateLimited(rateClass).increment()
        let what: String
        switch rateClass {
        case .commands: what = "commands"
        case .messages: what = "messages"
        case .typing: what = "typing indicators"
        case .proxy: what = "proxy requests"
        }
        let body = ErrorBody(.rateLimited, "too many \(what); retry in \(retryAfterMs) ms",
                             retryAfterMs: Int(clamping: retryAfterMs))
        if close {
            logger.notice("closing a session that kept exceeding its rate limits", metadata: [
                "session": .string(caller.sessionId), "user": .string(caller.userId), "class": .string(rateClass.rawValue)])
        } else {
            logger.debug("rate limited", metadata: ["class": .string(rateClass.rawValue), "retry_after_ms": "\(retryAfterMs)"])
        }
        return CommandOutcome(reply: Codec.error(id: header.id, body), close: close ? .rateLimitExceeded : nil)
    }

    /// `social_rate_limited_total{class}`: commands rejected by the bucket of `rateClass`.
    static func rateLimited(_ rateClass: RateClass) -> Counter {
        Counter(label: "social_rate_limited_total", dimensions: [("class", rateClass.rawValue)])
    }
}
