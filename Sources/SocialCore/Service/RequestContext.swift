import Logging
import SocialProtocol

/// The request id and trace of the command (or backend API request) a task
/// is running, for logs and for the calls it makes.
///
/// The dispatcher binds them while a command runs: the request id is
/// `<session id>-<command id>` (`k3x9a-17-42`: node tag, session number, the
/// client's command id), unique on a node for as long as a client does not
/// reuse a command id in flight; the trace is the gateway's span of the
/// command (a child of the client's `traceparent`, or a new trace). Loggers
/// made after `LoggingSystem.bootstrap(…, metadataProvider:
/// RequestContext.metadataProvider)` add `request_id` and `trace_id` to every
/// line logged inside the command: by the dispatcher, the store, the bus, the
/// REST proxy and the push webhook; the proxy and the webhook send the trace
/// on (`traceparent`). Work that leaves the task for a thread of its own
/// carries them only when the code handing it over rebinds them there
/// (`RequestContext.current` … `bind`). Tasks made with `Task {}` inherit them.
public enum RequestContext {
    @TaskLocal public static var requestId: String?
    /// The gateway's span of the running command or API request.
    @TaskLocal public static var trace: TraceContext?

    /// Adds `request_id` and `trace_id` to log lines while a command runs.
    public static let metadataProvider = Logger.MetadataProvider {
        var metadata: Logger.Metadata = [:]
        if let id = requestId { metadata["request_id"] = .string(id) }
        if let trace { metadata["trace_id"] = .stringConvertible(trace.traceId) }
        return metadata
    }

    /// What is bound now, to bind again on another thread.
    public static var current: Snapshot { Snapshot(requestId: requestId, trace: trace) }

    /// A request id and trace, carried to a thread that runs work for a command.
    public struct Snapshot: Sendable {
        public var requestId: String?
        public var trace: TraceContext?

        public init(requestId: String?, trace: TraceContext?) {
            self.requestId = requestId
            self.trace = trace
        }

        /// Runs `body` with these values bound.
        public func bind<T>(_ body: () throws -> T) rethrows -> T {
            try RequestContext.$requestId.withValue(requestId) {
                try RequestContext.$trace.withValue(trace, operation: body)
            }
        }

        /// Runs `body` with these values bound, in the calling task.
        public func bind<T>(_ body: () async throws -> T) async rethrows -> T {
            try await RequestContext.$requestId.withValue(requestId) {
                try await RequestContext.$trace.withValue(trace, operation: body)
            }
        }
    }
}
