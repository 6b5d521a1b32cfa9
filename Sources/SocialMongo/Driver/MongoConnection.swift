import CMongoC

/// What one job sees: a client popped from the pool, bound to the store's
/// database, with its collections made on first use.
///
/// Threads: the worker thread running the job; it must not escape the job.
final class MongoConnection {
    let database: String
    private let client: MongoClient
    private let queries: MongoQueryLog
    private var collections: [String: MongoCollection] = [:]

    init(client: MongoClient, database: String, queries: MongoQueryLog) {
        self.client = client
        self.database = database
        self.queries = queries
    }

    var chats: MongoCollection { collection(MongoSchema.chats) }
    var members: MongoCollection { collection(MongoSchema.members) }
    var invitations: MongoCollection { collection(MongoSchema.invitations) }
    var messages: MongoCollection { collection(MongoSchema.messages) }

    func collection(_ name: String) -> MongoCollection {
        if let existing = collections[name] { return existing }
        let made = MongoCollection(name, database: database, client: client, queries: queries)
        collections[name] = made
        return made
    }

    /// Runs a command on `database` (the store's by default) and returns the server's reply.
    @discardableResult
    func command(_ command: BSONDocument, on database: String? = nil) throws -> BSONDocument {
        var error = bson_error_t()
        let reply = BSONHandle.reply()
        let ok = reply.withPointer { r in
            BSONHandle(command).withPointer { c in
                client.withPointer { mongoc_client_command_simple($0, database ?? self.database, c, nil, r, &error) }
            }
        }
        guard ok else { throw MongoFailure(error) }
        return reply.document()
    }
}
