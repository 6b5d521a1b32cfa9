import Logging
import SocialAuth
import SocialCore

/// Keeps the handshake's bot credentials (`BotCredentials`, checked on the
/// lws thread without I/O) in step with the bot store: a full reload every
/// `--bot-refresh-seconds`, and at once for a change this node made.
struct BotDirectory: Sendable {
    let store: any BotStore
    let credentials = BotCredentials()
    let logger: Logger

    init(store: any BotStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Reloads every bot; on a store failure the previous set stays.
    func refresh() async {
        do {
            credentials.replaceAll(try await store.bots().map(Self.entry))
        } catch {
            logger.warning("bot directory refresh failed; keeping the previous set", metadata: ["error": "\(error)"])
        }
    }

    /// A change this node made through the API.
    var changed: @Sendable (BotAccount) -> Void {
        { [credentials] bot in credentials.update(Self.entry(bot)) }
    }

    static func entry(_ bot: BotAccount) -> BotCredentials.Entry {
        .init(id: bot.id, secretHash: bot.secretHash, scopes: bot.scopes, disabled: bot.disabled)
    }
}
