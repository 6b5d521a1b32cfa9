import Logging

/// The request id of the command a task is running, for logs.
///
/// The dispatcher binds it while a command runs: `<session id>-<command id>`
/// (`k3x9a-17-42`: node tag, session number, the client's command id), unique
/// on a node for as long as a client does not reuse a command id in flight.
/// Loggers made after `LoggingSystem.bootstrap(…, metadataProvider:
/// RequestContext.metadataProvider)` add it as `request_id` to every line
/// logged inside the command: by the dispatcher, the store, the bus and the
/// REST proxy. Work that leaves the task for a thread of its own carries it
/// only when the code handing it over rebinds it there
/// (`RequestContext.$requestId.withValue`).
public enum RequestContext {
    @TaskLocal public static var requestId: String?

    /// Adds `request_id` to log lines while a command runs.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = requestId else { return [:] }
        return ["request_id": .string(id)]
    }
}
