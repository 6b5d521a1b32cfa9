import Foundation
import SocialCore
import SocialHTTP
import SocialProtocol
import SocialTesting
import Testing

/// `PushWebhook` against a real HTTP server (`WebhookTestServer`).
@Suite struct PushWebhookTests {
    let push = PushRequest(userId: "ann", digest: false,
                           notifications: [WireNotification(id: 7, type: "kudos", title: "Nice run", body: "",
                                                            priority: "normal", status: "unread", createdAt: 1)],
                           unread: 1)

    func webhook(_ server: WebhookTestServer, attempts: Int = 4) -> PushWebhook {
        var settings = PushWebhookSettings(url: URL(string: server.url)!, bearerToken: "s3cret")
        settings.attempts = attempts
        settings.initialBackoffMs = 20
        settings.maxBackoffMs = 100
        return PushWebhook(settings: settings)
    }

    @Test func postsTheJSONBodyWithTheTokenAndAKey() async throws {
        let server = try WebhookTestServer()
        defer { server.stop() }
        #expect(await webhook(server).send(push))
        let received = server.requests
        #expect(received.count == 1)
        let request = try #require(received.first)
        #expect(request.body.userId == "ann")
        #expect(request.body.notifications.map(\.id) == [7])
        #expect(request.headers["Authorization"] == "Bearer s3cret")
        #expect(request.headers["Idempotency-Key"] == "ann:7:7")
    }

    @Test func retriesServerErrorsWithTheSameKey() async throws {
        let server = try WebhookTestServer(failFirst: 2)
        defer { server.stop() }
        #expect(await webhook(server).send(push))
        let received = server.requests
        #expect(received.map(\.status) == [503, 503, 200])
        #expect(Set(received.compactMap { $0.headers["Idempotency-Key"] }).count == 1)
    }

    @Test func givesUpAfterTheLastAttempt() async throws {
        let server = try WebhookTestServer(failFirst: 100)
        defer { server.stop() }
        #expect(await webhook(server, attempts: 3).send(push) == false)
        #expect(server.requests.count == 3)
    }

    @Test func aClientErrorIsNotRetried() async throws {
        let server = try WebhookTestServer(status: 400)
        defer { server.stop() }
        #expect(await webhook(server).send(push) == false)
        #expect(server.requests.count == 1)
    }

    @Test func anUnreachableServiceFails() async throws {
        var settings = PushWebhookSettings(url: URL(string: "http://127.0.0.1:\(RawSocket.freePort())/push")!)
        settings.attempts = 2
        settings.initialBackoffMs = 10
        #expect(await PushWebhook(settings: settings).send(push) == false)
    }
}
