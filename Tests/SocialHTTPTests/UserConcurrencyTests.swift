import Testing
@testable import SocialHTTP

@Suite struct UserConcurrencyTests {
    @Test func holdsEachUserToTheLimit() {
        let limiter = UserConcurrency(limit: 2)
        #expect(limiter.acquire("a"))
        #expect(limiter.acquire("a"))
        #expect(!limiter.acquire("a"))
        #expect(limiter.acquire("b"))  // other users are not affected
        limiter.release("a")
        #expect(limiter.acquire("a"))
        limiter.release("a")
        limiter.release("a")
        limiter.release("b")
        #expect(limiter.inFlight("a") == 0 && limiter.inFlight("b") == 0)
    }
}
