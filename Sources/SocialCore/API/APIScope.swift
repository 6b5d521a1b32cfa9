/// The scopes of the backend API: a client-credentials token's `scope` claim
/// must carry the one its endpoint names (`protocol/openapi.yaml` lists them).
public enum APIScope {
    /// Operators: bot accounts, force-disconnect.
    public static let admin = "social:admin"
    /// Backends posting into chats as the system or as a bot.
    public static let post = "social:post"
    /// Backends sending notifications.
    public static let notify = "social:notify"
}
