import SocialProtocol

/// `POST /api/v1/chats/{chat_id}/messages` (scope `social:post`): a backend
/// posts into a chat as the system (`sender_kind: "system"`, sender
/// `system`, no membership needed) or as one of its bots (`sender_kind:
/// "bot"`; the bot must be enabled and a member of the chat). Members
/// receive `message.new` like any other message; a retried
/// `client_msg_id` returns the original (200 instead of 201).
public enum MessageRoutes {
    /// The sender id of messages the system posts.
    public static let systemSender = "system"

    public static func routes(dispatcher: Dispatcher, bots: any BotStore) -> [APIRoute] {
        [
            APIRoute("POST", "/api/v1/chats/{chat_id}/messages", scope: APIScope.post) { request in
                let body = try request.decode(PostBody.self)
                let args = SendArgs(chatId: request.parameter("chat_id"), text: body.text, kind: body.kind,
                                    clientMsgId: body.clientMsgId, replyTo: body.replyTo,
                                    attachments: body.attachments, data: body.data)
                do {
                    let result: SendResult
                    if let botId = body.botId {
                        guard let bot = try await bots.bot(botId) else { throw APIProblem.unprocessable("bot_id: no bot \(botId)") }
                        guard !bot.disabled else { throw APIProblem.unprocessable("bot_id: bot \(botId) is disabled") }
                        result = try await dispatcher.send(args, sender: bot.id, kind: .bot)
                    } else {
                        result = try await dispatcher.send(args, sender: systemSender, kind: .system)
                    }
                    return .json(result.duplicate ? 200 : 201, result)
                } catch {
                    throw APIProblem.from(error)
                }
            },
        ]
    }

    struct PostBody: Decodable {
        /// Post as this bot; absent posts as the system.
        var botId: String?
        var text: String?
        var kind: String?
        var clientMsgId: String?
        var replyTo: Int64?
        var attachments: [WireAttachment]?
        var data: JSONValue?

        enum CodingKeys: String, CodingKey {
            case botId = "bot_id", text, kind, clientMsgId = "client_msg_id", replyTo = "reply_to", attachments, data
        }
    }
}
