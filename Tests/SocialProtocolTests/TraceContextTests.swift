import Testing
@testable import SocialProtocol

/// `traceparent` as the W3C Trace Context recommendation reads it
/// (https://www.w3.org/TR/trace-context/#traceparent-header), and the
/// envelope field that carries it on a command.
@Suite struct TraceContextTests {
    static let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func readsTheSpecificationsExampleAndWritesItBack() throws {
        let context = try #require(TraceContext(traceparent: Self.example))
        #expect(context.traceId == TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736))
        #expect(context.spanId == SpanID(0x00f0_67aa_0ba9_02b7))
        #expect(context.isSampled)
        #expect(context.traceparent == Self.example)
        #expect(context.traceId.description == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanId.description == "00f067aa0ba902b7")
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.isSampled == false)
    }

    @Test func writesLeadingZeros() {
        let context = TraceContext(traceId: TraceID(high: 0, low: 1), spanId: SpanID(2), flags: 0)
        #expect(context.traceparent == "00-00000000000000000000000000000001-0000000000000002-00")
        var bytes = Array("x".utf8)
        context.appendTraceparent(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x" + context.traceparent)
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",                 // no flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",             // version 00 is exactly 55
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",              // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",              // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",              // all-zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",              // version ff
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",              // delimiters
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",             // a later version goes on after a dash only
    ])
    func refusesWhatTheSpecificationCallsInvalid(_ text: String) {
        #expect(TraceContext(traceparent: text) == nil)
    }

    @Test func readsALaterVersionByItsVersion00PrefixAndSendsVersion00() throws {
        let later = try #require(TraceContext(traceparent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds"))
        #expect(later.traceparent == Self.example, "unknown flags dropped, version 00 written")
        #expect(TraceContext(traceparent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceparent == Self.example)
    }

    @Test func keepsOnlyTheSampledFlag() {
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")?.flags == 0x01)
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe")?.flags == 0x00)
    }

    @Test func readsFromBytesAndSlices() {
        let frame = Array("{\"traceparent\":\"\(Self.example)\"}".utf8)
        let slice = frame[16..<(16 + TraceContext.length)]
        #expect(TraceContext(traceparentBytes: slice) == TraceContext(traceparent: Self.example))
        #expect(TraceContext(traceparent: Substring(Self.example)) != nil)
    }

    // MARK: The envelope field

    @Test func aCommandCarriesItsTraceparentOnBothPaths() throws {
        for frame in [
            #"{"id":1,"op":"chat.send","traceparent":"\#(Self.example)","args":{"chat_id":"g_1","text":"hi"}}"#,  // fast path
            #"{"id":1,"op":"group.join","traceparent":"\#(Self.example)","args":{"group_id":"g_1"}}"#,             // decoder
            #"{"id":1,"op":"no.such.op","traceparent":"\#(Self.example)"}"#,
            #"{"id":1,"op":"chat.send","traceparent":"\#(Self.example)","args":{"chat_id":7}}"#,                   // invalid args
        ] {
            let command = try Codec.command(of: Array(frame.utf8))
            #expect(command.traceparent == TraceContext(traceparent: Self.example), "\(frame)")
        }
    }

    @Test(arguments: [
        #"{"id":1,"op":"chat.send","args":{"chat_id":"g_1","text":"hi"}}"#,
        #"{"id":1,"op":"chat.send","traceparent":null,"args":{"chat_id":"g_1","text":"hi"}}"#,
        #"{"id":1,"op":"chat.send","traceparent":5,"args":{"chat_id":"g_1","text":"hi"}}"#,
        #"{"id":1,"op":"chat.send","traceparent":["00"],"args":{"chat_id":"g_1","text":"hi"}}"#,
        #"{"id":1,"op":"chat.send","traceparent":"not a trace","args":{"chat_id":"g_1","text":"hi"}}"#,
        #"{"id":1,"op":"group.join","traceparent":"00-00000000000000000000000000000000-00f067aa0ba902b7-01","args":{"group_id":"g"}}"#,
        #"{"id":1,"op":"group.join","traceparent":{"v":1},"args":{"group_id":"g"}}"#,
    ])
    func anAbsentOrInvalidTraceparentIsIgnoredNotAnError(_ frame: String) throws {
        let command = try Codec.command(of: Array(frame.utf8))
        #expect(command.traceparent == nil)
        #expect((try? command.args.get()) != nil, "the command runs as without it")
    }
}
