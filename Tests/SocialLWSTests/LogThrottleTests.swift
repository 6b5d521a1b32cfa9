import Testing
@testable import SocialLWS

@Suite struct LogThrottleTests {
    @Test func aRepeatedLineIsWrittenOncePerIntervalWithTheCountHeldBack() {
        var throttle = LogThrottle(intervalMs: 1000)
        #expect(throttle.admit("accept: errno 24", now: 0) == 0)
        for t in 1..<100 { #expect(throttle.admit("accept: errno 24", now: Int64(t)) == nil) }
        #expect(throttle.admit("accept: errno 23", now: 500) == nil, "the same kind, another number")
        #expect(throttle.admit("accept: errno 24", now: 1000) == 100)
        #expect(throttle.admit("accept: errno 24", now: 1001) == nil)
        #expect(throttle.admit("accept: errno 24", now: 5000) == 1)
    }

    @Test func linesOfOtherKindsAreNotHeldBack() {
        var throttle = LogThrottle(intervalMs: 1000)
        #expect(throttle.admit("accept: errno 24", now: 0) == 0)
        #expect(throttle.admit("Ran out of header data space", now: 1) == 0)
        #expect(throttle.admit("wsi 0x55d3c0a1b2 closed", now: 2) == 0)
        #expect(throttle.admit("wsi 0x55d3c0ffff closed", now: 3) == nil)
    }

    @Test func theTableOfKindsIsBounded() {
        var throttle = LogThrottle(intervalMs: 1000, capacity: 4)
        for k in 0..<4 { #expect(throttle.admit("kind \(String(repeating: "a", count: k))", now: 0) == 0) }
        #expect(throttle.admit("another kind", now: 10) == 0)
        #expect(throttle.admit("another kind", now: 11) == nil)
    }

    @Test func aKindBlanksNumbersAndPointers() {
        #expect(LogThrottle.kind(of: "accept: errno 24") == "accept: errno #")
        #expect(LogThrottle.kind(of: "wsi 0x7f3a2c001230: fd 17") == "wsi #: fd #")
    }
}
