import SocialCore
import SocialLWS

/// The transport's view of the application: commands and session lifecycle go
/// to the dispatcher, readiness asks the store.
struct GatewayCommands: CommandHandler {
    let dispatcher: Dispatcher
    let store: any ChatStore

    func handle(_ frame: [UInt8], from connection: ConnectionInfo) async -> CommandOutcome {
        await dispatcher.execute(frame, from: caller(connection))
    }

    func subscriptions(of user: String) async throws -> [String] {
        try await dispatcher.chats(of: user)
    }

    func sessionOpened(_ connection: ConnectionInfo) async {
        await dispatcher.sessionOpened(caller(connection))
    }

    func sessionClosed(_ connection: ConnectionInfo) async {
        await dispatcher.sessionClosed(caller(connection))
    }

    func heartbeat(_ connections: [ConnectionInfo]) async {
        await dispatcher.presenceHeartbeat(connections.map(caller))
    }

    func backendsReady() async -> Bool {
        await store.ping()
    }

    private func caller(_ connection: ConnectionInfo) -> Caller {
        Caller(userId: connection.userId, deviceId: connection.deviceId, sessionId: connection.sessionId,
               kind: connection.isBot ? .bot : .user, scopes: connection.scopes, accessToken: connection.accessToken)
    }
}
