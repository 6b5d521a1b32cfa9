import SocialCore
import Testing

@Suite struct RateLimiterTests {
    static func settings() -> RateLimits {
        var s = RateLimits.off
        s.commands = RateLimit(perSecond: 10, burst: 10)
        s.messages = RateLimit(perSecond: 2, burst: 2)
        s.botMessages = RateLimit(perSecond: 1, burst: 3)
        s.typing = RateLimit(perSecond: 1, burst: 1)
        s.floodRejections = 4
        s.floodWindowMs = 1000
        return s
    }

    let alice = Caller(userId: "alice", deviceId: "phone", sessionId: "s1")

    @Test func messagesHaveTheirOwnBucketBesideTheCommandBucket() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("chat.react", sessionId: "s1", now: 0) == .admit)
        // Two messages per second: the third waits 500 ms...
        #expect(limiter.admit("chat.edit", sessionId: "s1", now: 0) == .reject(.messages, retryAfterMs: 500))
        // ...while other commands still pass.
        #expect(limiter.admit("chat.history", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 500) == .admit, "recovers after retry_after_ms")
    }

    @Test func everyOpButPingDrawsFromTheCommandBucket() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        for _ in 0..<8 { #expect(limiter.admit("sync", sessionId: "s1", now: 0) == .admit) }
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("no.such.op", sessionId: "s1", now: 0) == .reject(.commands, retryAfterMs: 100))
        #expect(limiter.admit("ping", sessionId: "s1", now: 0) == .admit, "no ping limit set: pings pass")
    }

    @Test func pingHasABucketOfItsOwn() {
        var settings = Self.settings()
        settings.ping = RateLimit(perSecond: 5, burst: 5)
        var limiter = RateLimiter(settings: settings)
        limiter.open(alice, now: 0)
        // Pings do not draw from the command bucket...
        for _ in 0..<5 { #expect(limiter.admit("ping", sessionId: "s1", now: 0) == .admit) }
        #expect(limiter.admit("ping", sessionId: "s1", now: 0) == .reject(.ping, retryAfterMs: 200))
        // ...so every command token is still there,
        for _ in 0..<10 { #expect(limiter.admit("sync", sessionId: "s1", now: 0) == .admit) }
        #expect(limiter.admit("sync", sessionId: "s1", now: 0) == .reject(.commands, retryAfterMs: 100))
        // and an empty command bucket does not hold a ping back.
        #expect(limiter.admit("ping", sessionId: "s1", now: 200) == .admit)
        #expect(RateLimits().ping != nil, "pings are limited by default")
    }

    @Test func aPingFloodIsClosedLikeAnyOther() {
        var settings = Self.settings()
        settings.ping = RateLimit(perSecond: 1, burst: 1)
        var limiter = RateLimiter(settings: settings)
        limiter.open(alice, now: 0)
        #expect(limiter.admit("ping", sessionId: "s1", now: 0) == .admit)
        for t in 1...3 { #expect(limiter.admit("ping", sessionId: "s1", now: Int64(t)) == .reject(.ping, retryAfterMs: 1000 - Int64(t))) }
        #expect(limiter.admit("ping", sessionId: "s1", now: 4) == .close(.ping, retryAfterMs: 996))
    }

    @Test func aRejectedCommandTakesNoTokenFromTheOtherBucket() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        #expect(limiter.admit("chat.typing", sessionId: "s1", now: 0) == .admit)
        // Typing is empty; these rejections must not drain the command bucket.
        for _ in 0..<3 { #expect(limiter.admit("chat.typing", sessionId: "s1", now: 0) == .reject(.typing, retryAfterMs: 1000)) }
        for _ in 0..<9 { #expect(limiter.admit("sync", sessionId: "s1", now: 0) == .admit) }
        #expect(limiter.admit("sync", sessionId: "s1", now: 0) != .admit)
    }

    @Test func aClientThatKeepsFloodingIsClosed() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        for _ in 0..<2 { #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit) }
        // The 4th rejection within a second closes.
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 10) == .reject(.messages, retryAfterMs: 490))
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 20) == .reject(.messages, retryAfterMs: 480))
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 30) == .reject(.messages, retryAfterMs: 470))
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 40) == .close(.messages, retryAfterMs: 460))
    }

    @Test func aClientThatWaitsAsToldIsNeverClosed() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        var now: Int64 = 0
        var rejections = 0
        for _ in 0..<200 {
            switch limiter.admit("chat.send", sessionId: "s1", now: now) {
            case .admit: break
            case .reject(_, let wait):
                rejections += 1
                now += wait
            case .close: Issue.record("closed a client that waited as told")
            }
        }
        #expect(rejections > 50, "the limit did apply")
    }

    @Test func rejectionsSpreadOverMoreThanTheWindowDoNotClose() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        _ = limiter.admit("chat.typing", sessionId: "s1", now: 0)
        // Three rejections every 1.2 s (under 4 per second), refill kept away by a 1 token/s rate and 300 ms steps.
        var now: Int64 = 1
        for round in 0..<5 {
            for _ in 0..<3 {
                let decision = limiter.admit("chat.typing", sessionId: "s1", now: now)
                if case .close = decision { Issue.record("closed in round \(round)") }
                now += 1
            }
            now += 1200
            _ = limiter.admit("chat.typing", sessionId: "s1", now: now)  // the refilled token
        }
    }

    @Test func aBotsSessionsShareItsMessageBucket() {
        var limiter = RateLimiter(settings: Self.settings())
        let bot1 = Caller(userId: "coach-bot", deviceId: "a", sessionId: "b1", kind: .bot)
        let bot2 = Caller(userId: "coach-bot", deviceId: "b", sessionId: "b2", kind: .bot)
        limiter.open(bot1, now: 0)
        limiter.open(bot2, now: 0)
        #expect(limiter.botCount == 1)
        #expect(limiter.admit("chat.send", sessionId: "b1", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "b2", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "b1", now: 0) == .admit)
        // Three per bot, whichever session sends; one a second after that.
        #expect(limiter.admit("chat.send", sessionId: "b2", now: 0) == .reject(.messages, retryAfterMs: 1000))
        // A person's message limit (2) is not the bot's (3).
        limiter.open(alice, now: 0)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) != .admit)
        // The bot's bucket lives while one of its sessions does.
        limiter.close(sessionId: "b1")
        #expect(limiter.botCount == 1)
        #expect(limiter.admit("chat.send", sessionId: "b2", now: 0) != .admit)
        limiter.close(sessionId: "b2")
        #expect(limiter.botCount == 0)
    }

    @Test func sessionsComeAndGoWithTheirBuckets() {
        var limiter = RateLimiter(settings: Self.settings())
        limiter.open(alice, now: 0)
        for _ in 0..<2 { _ = limiter.admit("chat.send", sessionId: "s1", now: 0) }
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) != .admit)
        limiter.close(sessionId: "s1")
        #expect(limiter.sessionCount == 0)
        // Not open: admitted (a command finishing after its session closed).
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
        #expect(limiter.sessionCount == 0, "admitting does not re-create a closed session")
        // A new session starts full.
        limiter.open(alice, now: 0)
        #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit)
    }

    @Test func offMeansNoLimit() {
        var limiter = RateLimiter(settings: .off)
        limiter.open(alice, now: 0)
        for _ in 0..<10_000 { #expect(limiter.admit("chat.send", sessionId: "s1", now: 0) == .admit) }
        #expect(!RateLimits.off.isEnabled)
        #expect(RateLimits().isEnabled)
    }

    @Test func floodClosingCanBeTurnedOff() {
        var settings = Self.settings()
        settings.floodRejections = 0
        var limiter = RateLimiter(settings: settings)
        limiter.open(alice, now: 0)
        for _ in 0..<100 {
            if case .close = limiter.admit("chat.send", sessionId: "s1", now: 0) { Issue.record("closed"); return }
        }
    }
}
