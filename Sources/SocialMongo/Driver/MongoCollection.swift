import CMongoC

/// Owns one `mongoc_collection_t` and runs the operations the store uses.
/// Every method blocks on the network and throws `MongoFailure`.
///
/// Threads: the worker thread whose client made it, for that job only.
final class MongoCollection {
    private let pointer: OpaquePointer
    /// Keeps the client (and so the pool) alive while the collection is used.
    private let client: MongoClient
    private let name: String
    private let queries: MongoQueryLog

    init(_ name: String, database: String, client: MongoClient, queries: MongoQueryLog) {
        guard let pointer = client.withPointer({ mongoc_client_get_collection($0, database, name) }) else {
            fatalError("mongoc_client_get_collection: out of memory")
        }
        self.pointer = pointer
        self.client = client
        self.name = name
        self.queries = queries
    }

    deinit { mongoc_collection_destroy(pointer) }

    /// Inserts `document` with the configured write concern.
    func insert(_ document: BSONDocument) throws {
        queries.record(name, "insert", document)
        _ = try call { error, reply in
            BSONHandle(document).withPointer { mongoc_collection_insert_one(pointer, $0, nil, reply, &error) }
        }
    }

    /// What an update matched and did.
    struct UpdateResult {
        var matched: Int64
        var modified: Int64
        var upserted: Bool
    }

    /// Updates the first document matching `filter`; with `upsert`, inserts
    /// one when none matches (a duplicate key then throws).
    @discardableResult
    func updateOne(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false) throws -> UpdateResult {
        queries.record(name, "updateOne", filter)
        let options: BSONDocument = upsert ? ["upsert": true] : [:]
        let reply = try call { error, reply in
            BSONHandle(filter).withPointer { f in
                BSONHandle(update).withPointer { u in
                    BSONHandle(options).withPointer { o in mongoc_collection_update_one(pointer, f, u, o, reply, &error) }
                }
            }
        }
        return UpdateResult(matched: reply["matchedCount"]?.int64 ?? 0, modified: reply["modifiedCount"]?.int64 ?? 0,
                            upserted: (reply["upsertedCount"]?.int64 ?? 0) > 0)
    }

    /// Updates every document matching `filter`.
    @discardableResult
    func updateMany(_ filter: BSONDocument, _ update: BSONDocument) throws -> UpdateResult {
        queries.record(name, "updateMany", filter)
        let reply = try call { error, reply in
            BSONHandle(filter).withPointer { f in
                BSONHandle(update).withPointer { u in mongoc_collection_update_many(pointer, f, u, nil, reply, &error) }
            }
        }
        return UpdateResult(matched: reply["matchedCount"]?.int64 ?? 0, modified: reply["modifiedCount"]?.int64 ?? 0,
                            upserted: false)
    }

    /// Documents matching `filter`, in `sort` order, at most `limit` (nil: all).
    func find(_ filter: BSONDocument, sort: BSONDocument? = nil, limit: Int? = nil,
              projection: BSONDocument? = nil) throws -> [BSONDocument] {
        queries.record(name, "find", filter)
        var options = BSONDocument()
        if let sort { options["sort"] = .document(sort) }
        if let limit { options["limit"] = .int64(Int64(limit)) }
        if let projection { options["projection"] = .document(projection) }
        let cursor = MongoCursor(BSONHandle(filter).withPointer { f in
            BSONHandle(options).withPointer { o in mongoc_collection_find_with_opts(pointer, f, o, nil) }
        })
        return try cursor.all()
    }

    func findOne(_ filter: BSONDocument, projection: BSONDocument? = nil) throws -> BSONDocument? {
        try find(filter, limit: 1, projection: projection).first
    }

    /// How many documents match `filter` (an aggregation on the server).
    func count(_ filter: BSONDocument) throws -> Int {
        queries.record(name, "count", filter)
        var error = bson_error_t()
        let count = BSONHandle(filter).withPointer { f in
            mongoc_collection_count_documents(pointer, f, nil, nil, nil, &error)
        }
        guard count >= 0 else { throw MongoFailure(error) }
        return Int(count)
    }

    /// Runs a libmongoc call that fills `reply` and `error`; returns the reply or throws the error.
    private func call(_ body: (inout bson_error_t, OpaquePointer) -> Bool) throws -> BSONDocument {
        var error = bson_error_t()
        let reply = BSONHandle.reply()
        let ok = reply.withPointer { body(&error, $0) }
        guard ok else { throw MongoFailure(error) }
        return reply.document()
    }
}

/// Owns one `mongoc_cursor_t`, destroyed in `deinit`.
///
/// Threads: the worker thread of the collection that made it.
final class MongoCursor {
    private let pointer: OpaquePointer

    init(_ pointer: OpaquePointer?) {
        guard let pointer else { fatalError("mongoc_collection_find_with_opts: out of memory") }
        self.pointer = pointer
    }

    deinit { mongoc_cursor_destroy(pointer) }

    /// Reads every remaining document (each borrowed from the cursor, decoded at once).
    func all() throws -> [BSONDocument] {
        var documents: [BSONDocument] = []
        var current: OpaquePointer?
        while mongoc_cursor_next(pointer, &current) {
            if let current { documents.append(BSONHandle.decode(current)) }
        }
        var error = bson_error_t()
        if mongoc_cursor_error(pointer, &error) { throw MongoFailure(error) }
        return documents
    }
}
