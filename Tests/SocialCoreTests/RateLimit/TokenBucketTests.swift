import SocialCore
import Testing

@Suite struct TokenBucketTests {
    let limit = RateLimit(perSecond: 10, burst: 3)

    @Test func aFullBucketAdmitsItsBurstThenSaysHowLongToWait() {
        var bucket = TokenBucket(limit, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        // One token every 100 ms.
        #expect(bucket.take(now: 0) == 100)
        #expect(bucket.take(now: 40) == 60)
    }

    @Test func tokensComeBackAtTheRateUpToTheBurst() {
        var bucket = TokenBucket(limit, now: 0)
        for _ in 0..<3 { #expect(bucket.take(now: 0) == nil) }
        #expect(bucket.take(now: 100) == nil, "one token after 100 ms")
        #expect(bucket.take(now: 100) != nil)
        // An hour idle refills only up to the burst.
        for _ in 0..<3 { #expect(bucket.take(now: 3_600_000) == nil) }
        #expect(bucket.take(now: 3_600_000) == 100)
    }

    @Test func aClockSteppedBackNeitherRefillsNorStalls() {
        var bucket = TokenBucket(limit, now: 10_000)
        for _ in 0..<3 { #expect(bucket.take(now: 10_000) == nil) }
        // The wall clock jumps back a minute: no tokens from it...
        #expect(bucket.take(now: -50_000) == 100)
        // ...and the bucket refills from the new reading, not from 10 000.
        #expect(bucket.take(now: -49_900) == nil)
    }

    @Test func slowRatesWaitLong() {
        var bucket = TokenBucket(RateLimit(perSecond: 0.5, burst: 1), now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == 2000)
    }
}

@Suite struct RateLimitSyntaxTests {
    @Test func readsRatesUnitsAndBursts() throws {
        #expect(try RateLimit.parse("20/s,burst=40") == RateLimit(perSecond: 20, burst: 40))
        #expect(try RateLimit.parse(" 20/s , burst=40 ") == RateLimit(perSecond: 20, burst: 40))
        #expect(try RateLimit.parse("20/s") == RateLimit(perSecond: 20, burst: 20))
        #expect(try RateLimit.parse("30/m") == RateLimit(perSecond: 0.5, burst: 30))
        #expect(try RateLimit.parse("0.5/s") == RateLimit(perSecond: 0.5, burst: 1))
        #expect(try RateLimit.parse("off") == nil)
        #expect(try RateLimit.parse("OFF") == nil)
    }

    @Test func refusesWhatItCannotRead() {
        for bad in ["", "20", "20/h", "0/s", "-1/s", "x/s", "20/s,burst=0", "20/s,bursts=4", "20/s,40", "inf/s"] {
            #expect(throws: RateLimitSyntaxError.self, "\(bad)") { try RateLimit.parse(bad) }
        }
    }

    @Test func printsWhatItReads() throws {
        let limit = try #require(try RateLimit.parse("100/s,burst=1000"))
        #expect(limit.description == "100/s,burst=1000")
        #expect(try RateLimit.parse(limit.description) == limit)
    }
}
