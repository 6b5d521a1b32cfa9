import ArgumentParser
import SocialCore

extension GatewayOptions {
    /// The command rate limits the flags set; throws a `ValidationError` naming a bad flag.
    func rates() throws -> RateLimits {
        guard ["on", "off"].contains(rateLimits) else { throw ValidationError("--rate-limits must be on or off") }
        guard rateFloodRejections >= 0, rateFloodWindow >= 1 else {
            throw ValidationError("--rate-flood-rejections ≥ 0 and --rate-flood-window ≥ 1")
        }
        if rateLimits == "off" { return .off }
        func parse(_ flag: String, _ text: String) throws -> RateLimit? {
            do {
                return try RateLimit.parse(text)
            } catch {
                throw ValidationError("--\(flag): \(error)")
            }
        }
        var rates = RateLimits()
        rates.commands = try parse("rate-commands", rateCommands)
        rates.messages = try parse("rate-messages", rateMessages)
        rates.botMessages = try parse("rate-bot-messages", rateBotMessages)
        rates.typing = try parse("rate-typing", rateTyping)
        rates.proxy = try parse("rate-proxy", rateProxy)
        rates.ping = try parse("rate-ping", ratePing)
        rates.floodRejections = rateFloodRejections
        rates.floodWindowMs = Int64(rateFloodWindow) * 1000
        return rates
    }
}
