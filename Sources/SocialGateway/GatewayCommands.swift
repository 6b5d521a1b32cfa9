import SocialCore
import SocialLWS

/// The transport's view of the application: commands go to the dispatcher,
/// readiness asks the store.
struct GatewayCommands: CommandHandler {
    let dispatcher: Dispatcher
    let store: any ChatStore

    func handle(_ frame: [UInt8], from connection: ConnectionInfo) async -> [UInt8] {
        await dispatcher.handle(frame, from: Caller(userId: connection.userId, deviceId: connection.deviceId,
                                                    sessionId: connection.sessionId))
    }

    func subscriptions(of user: String) async throws -> [String] {
        try await dispatcher.chats(of: user)
    }

    func backendsReady() async -> Bool {
        await store.ping()
    }
}
