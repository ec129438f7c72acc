import Foundation
import Logging
import OrbitCore
import OrbitStore
import PostgresNIO
import Synchronization

/// The `Store` on a PostgreSQL server, for several server replicas sharing one database.
///
/// Lifecycle: `open` connects, migrates the schema and starts the connection pool in a background
/// task; `close` stops it. Every write takes one advisory lock for its whole transaction, so writes
/// from all replicas serialise and change versions commit in increasing order.
public final class PostgresStore: Store {
    public let configuration: Configuration
    let client: PostgresClient
    let logger: Logger
    /// The task running the pool; nil once `close()` ran, so later calls can say why they fail.
    private let runTask = Mutex<Task<Void, Never>?>(nil)
    /// The id maps, kept in memory because every import and event needs them; checked against
    /// the table sizes inside each write's locked transaction, so other replicas' users are noticed.
    let cachedCatalog = Mutex<Catalog?>(nil)

    public static let schemaVersion = 2
    /// `pg_advisory_xact_lock` key taken by every write and by migrations ("ORBIT" in ASCII).
    static let writeLock: Int64 = 0x4F_52_42_49_54

    private init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
    }

    /// Connects to the server, creates or migrates the schema, and starts the connection pool.
    /// Call `close()` when done. Throws `StoreError.database` when the server cannot be reached,
    /// refuses the login, or holds a schema newer than this build.
    public static func open(_ configuration: Configuration, logger: Logger = Logger(label: "orbit.postgres")) async throws
        -> PostgresStore
    {
        // A direct connection first: the pool retries a dead server for a minute before failing
        // requests, while this fails at once with the reason.
        try await withConnection(configuration, logger: logger) { conn in
            try await migrate(conn, logger: logger)
        }
        let store = PostgresStore(configuration: configuration, logger: logger)
        let client = store.client
        // An immediate task has entered run() by the time open returns, so the first query does
        // not find the pool stopped.
        let task: Task<Void, Never>
        if #available(macOS 26, *) {
            task = Task.immediate { await client.run() }
        } else {
            task = Task { await client.run() }
        }
        store.runTask.withLock { $0 = task }
        return store
    }

    /// Opens the store at a `postgres://user[:password]@host[:port]/database` URL.
    public static func open(url: String, logger: Logger = Logger(label: "orbit.postgres")) async throws -> PostgresStore {
        try await open(Configuration(url: url), logger: logger)
    }

    /// Closes the pool's connections; calls made after this throw. Safe to call twice.
    public func close() async {
        guard let task = runTask.withLock({ t in defer { t = nil }; return t }) else { return }
        task.cancel()
        await task.value
    }

    deinit {
        runTask.withLock { $0?.cancel() }
    }

    // MARK: server administration

    /// Creates database `name` on the server of `server` (a test or a first deployment needs it).
    public static func createDatabase(_ name: String, server: Configuration, logger: Logger = Logger(label: "orbit.postgres"))
        async throws
    {
        _ = try await withConnection(server, logger: logger) { conn in
            try await conn.query("CREATE DATABASE \(unescaped: quoted(name))", logger: logger)
        }
    }

    /// Drops database `name`, ending the sessions still connected to it.
    public static func dropDatabase(_ name: String, server: Configuration, logger: Logger = Logger(label: "orbit.postgres"))
        async throws
    {
        _ = try await withConnection(server, logger: logger) { conn in
            try await conn.query("DROP DATABASE IF EXISTS \(unescaped: quoted(name)) WITH (FORCE)", logger: logger)
        }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Runs `body` on a connection of its own, outside the pool, with errors mapped to `StoreError`.
    static func withConnection<T: Sendable>(
        _ c: Configuration, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch c.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw StoreError.database("\(c): cannot set up TLS: \(error)")
        }
        var config = PostgresConnection.Configuration(
            host: c.host, port: c.port, username: c.user, password: c.password, database: c.database, tls: tls)
        config.options.connectTimeout = .seconds(5)
        return try await mapErrors(c) {
            let conn = try await PostgresConnection.connect(configuration: config, id: 0, logger: logger)
            do {
                let value = try await body(conn)
                try? await conn.close()
                return value
            } catch {
                try? await conn.close()
                throw error
            }
        }
    }

    // MARK: schema

    static let migrations: [[String]] = [
        [  // v1: the tables of SQLiteStore; "user" is quoted because it is a keyword in PostgreSQL.
            """
            CREATE TABLE users (
                idx INT4 PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,
                created_at INT8 NOT NULL DEFAULT 0, flags INT2 NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE posts (
                idx INT4 PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,
                author INT4 NOT NULL, created_at INT8 NOT NULL)
            """,
            "CREATE INDEX posts_by_author ON posts(author, created_at)",
            """
            CREATE TABLE follows (
                follower INT4 NOT NULL, followee INT4 NOT NULL, created_at INT8 NOT NULL, rank INT4,
                PRIMARY KEY (follower, followee))
            """,
            """
            CREATE TABLE blocks (
                "user" INT4 NOT NULL, blocked INT4 NOT NULL, created_at INT8 NOT NULL,
                PRIMARY KEY ("user", blocked))
            """,
            """
            CREATE TABLE interactions (
                "user" INT4 NOT NULL, post INT4 NOT NULL, kind INT2 NOT NULL, ts INT8 NOT NULL,
                PRIMARY KEY ("user", post, kind, ts))
            """,
            """
            CREATE TABLE changes (
                version BIGSERIAL PRIMARY KEY, op INT2 NOT NULL,
                a INT4 NOT NULL, b INT4 NOT NULL, detail INT2 NOT NULL, ts INT8 NOT NULL)
            """,
        ],
        [  // v2: dismissed suggestions and suggestions shown (impressions).
            """
            CREATE TABLE dismissals (
                "user" INT4 NOT NULL, candidate INT4 NOT NULL, reason INT2 NOT NULL, created_at INT8 NOT NULL,
                PRIMARY KEY ("user", candidate))
            """,
            """
            CREATE TABLE impressions (
                "user" INT4 NOT NULL, candidate INT4 NOT NULL, surface TEXT NOT NULL, shown_at INT8 NOT NULL)
            """,
            "CREATE INDEX impressions_by_time ON impressions(shown_at)",
        ],
    ]

    /// Brings the schema to `schemaVersion`; the write lock keeps replicas starting together from
    /// racing on `CREATE TABLE`.
    static func migrate(_ conn: PostgresConnection, logger: Logger) async throws {
        try await transaction(conn, logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(\(writeLock))", logger: logger)
            try await conn.query(
                "CREATE TABLE IF NOT EXISTS orbit_schema (version INT4 PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger)
            let found = try await conn.scalar("SELECT COALESCE(MAX(version), 0) FROM orbit_schema", as: Int.self, logger: logger)
            guard found <= schemaVersion else { throw StoreError.schemaTooNew(found: found, supported: schemaVersion) }
            for v in found..<schemaVersion {
                for statement in migrations[v] { try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await conn.query("INSERT INTO orbit_schema (version) VALUES (\(v + 1))", logger: logger)
            }
        }
    }

    // MARK: transactions and errors

    enum Isolation: String {
        case readCommitted = "READ COMMITTED"
        case repeatableReadOnly = "REPEATABLE READ READ ONLY"
    }

    /// Runs `body` in a transaction on a pooled connection, with errors mapped to `StoreError`.
    func transaction<T: Sendable>(
        _ isolation: Isolation = .readCommitted, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try checkOpen()
        let logger = self.logger
        return try await Self.mapErrors(configuration) {
            try await leased { conn in try await Self.transaction(conn, isolation, logger: logger, body) }
        }
    }

    /// Runs `body` on a pooled connection outside a transaction (one statement reads are consistent).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try checkOpen()
        return try await Self.mapErrors(configuration) { try await leased(body) }
    }

    /// Whether a lease got its connection first or its deadline passed first: exactly one wins.
    private final class LeaseRace: Sendable {
        private let state = Mutex(0)  // 0 waiting, 1 connected, 2 timed out
        func win(_ outcome: Int) -> Bool { state.withLock { if $0 == 0 { $0 = outcome; return true }; return false } }
    }

    /// `withConnection`, waiting at most `configuration.leaseTimeout` for the connection. A body
    /// never starts after the deadline has answered, so a timed-out write is surely not stored.
    /// The deadline answers at once: the lease is left to end in the background rather than
    /// awaited (a task group would wait for it, and a pool that is reconnecting may not give the
    /// request up when cancelled, which held callers, and every write queued behind them, for as
    /// long as the database stayed unreachable).
    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let race = LeaseRace()
        let (client, timeout, name) = (self.client, configuration.leaseTimeout, configuration.description)
        let answer = Answer<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                answer.set(continuation)
                let lease = Task {
                    do {
                        let value = try await client.withConnection { conn in
                            guard race.win(1) else { throw CancellationError() }
                            return try await Self.unlessClosed({ conn.isClosed }, name: name) { try await body(conn) }
                        }
                        answer.resume(.success(value))
                    } catch {
                        answer.resume(.failure(error))
                    }
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    guard race.win(2) else { return }
                    // Answer first: the cancelled lease fails too (requestCancelled), and must not be the answer.
                    answer.resume(.failure(StoreError.unavailable("\(name): no connection within \(timeout); the database is down or unreachable")))
                    lease.cancel()
                }
            }
        } onCancel: {
            if race.win(2) { answer.resume(.failure(CancellationError())) }
        }
    }

    /// `body`'s answer, or `StoreError.unavailable` once its connection has been seen closed
    /// (`isClosed`, checked every `interval`) twice in a row without `body` answering.
    /// PostgresNIO 1.33 can leave a query that was sent while the server shut down waiting for
    /// ever on the closed connection (the restart test caught a write hanging there, and every
    /// write queued behind it). The body is then left behind, waiting on a connection that no
    /// longer exists, and the connection goes back to the pool, which has already dropped it (it
    /// learns of the close from the channel). That keeps the connection past its lease, which
    /// `withConnection` asks callers not to do; it is harmless here because a closed channel is
    /// never reopened or lent again, so the left-behind body can only fail. No time limit
    /// otherwise: reading a snapshot takes minutes on a large store. Only a socket that closes is
    /// noticed: a peer that vanishes without a reset leaves `isClosed` false (TCP keepalive or a
    /// server-side timeout are what end those). Not cancellable once the body runs, as before.
    static func unlessClosed<T: Sendable>(
        _ isClosed: @escaping @Sendable () -> Bool, interval: Duration = .seconds(1), name: String,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let answer = Answer<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            answer.set(continuation)
            // Polled, not a callback on the connection's close future: a pooled connection serves
            // many requests, and their callbacks would pile up on it.
            let watch = Task {
                var closedBefore = false
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard !Task.isCancelled else { return }
                    // The second check: a body that fails by itself with the driver's error says so first.
                    let closed = isClosed()
                    if closed, closedBefore {
                        answer.resume(.failure(StoreError.unavailable(
                            "\(name): the connection closed before the database answered (the database went down or dropped it); "
                                + "if this was a write, it may or may not be stored; retry when the database is back")))
                        return
                    }
                    closedBefore = closed
                }
            }
            Task {
                do { answer.resume(.success(try await body())) } catch { answer.resume(.failure(error)) }
                watch.cancel()
            }
        }
    }

    /// The one continuation of a lease (or of a body on a connection), resumed by whichever answer
    /// comes first: the lease, the deadline, a cancellation, a closed connection (later answers
    /// are dropped).
    private final class Answer<T: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, early: Result<T, any Error>?, done: Bool)>((nil, nil, false))

        func set(_ c: CheckedContinuation<T, any Error>) {
            let early: Result<T, any Error>? = state.withLock {
                if let e = $0.early { $0.early = nil; $0.done = true; return e }
                $0.continuation = c
                return nil
            }
            if let early { c.resume(with: early) }
        }

        func resume(_ r: Result<T, any Error>) {
            let c: CheckedContinuation<T, any Error>? = state.withLock {
                guard !$0.done else { return nil }
                guard let c = $0.continuation else { if $0.early == nil { $0.early = r }; return nil }
                $0.continuation = nil
                $0.done = true
                return c
            }
            c?.resume(with: r)
        }
    }

    private func checkOpen() throws {
        if runTask.withLock({ $0 == nil }) { throw StoreError.unavailable("\(configuration): the store was closed; open it again") }
    }

    /// BEGIN … COMMIT, or ROLLBACK and rethrow `body`'s own error (PostgresNIO's `withTransaction`
    /// would wrap it, hiding `StoreError`s and import reports from callers).
    nonisolated(nonsending) static func transaction<T: Sendable>(
        _ conn: PostgresConnection, _ isolation: Isolation = .readCommitted, logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await conn.query("BEGIN ISOLATION LEVEL \(unescaped: isolation.rawValue)", logger: logger)
        let value: T
        do {
            value = try await body(conn)
        } catch {
            do {
                try await conn.query("ROLLBACK", logger: logger)
            } catch {
                // A connection that cannot roll back is in an unknown state: keep it out of the pool.
                try? await conn.close()
            }
            throw error
        }
        try await conn.query("COMMIT", logger: logger)
        return value
    }

    /// Turns driver errors into `StoreError.database` with the server's message; the store's and
    /// the importer's own errors pass through.
    static func mapErrors<T>(_ c: Configuration, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as StoreError {
            throw e
        } catch let e as ImportError {
            throw e
        } catch let e as PSQLError {
            throw isUnavailable(e) ? StoreError.unavailable(describe(e, c)) : StoreError.database(describe(e, c))
        } catch let e as SnapshotReadError {
            throw StoreError.damaged("\(c): \(e)")
        } catch let e as PostgresDecodingError {
            throw StoreError.database("\(c): unexpected column type: \(String(reflecting: e))")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StoreError.database("\(c): \(error)")
        }
    }

    /// Errors that say the server cannot be reached now, rather than that the request is wrong: a
    /// failed or lost connection, a closed pool, or the server shutting down or starting up
    /// (SQLSTATE class 08, 57P01–57P03).
    static func isUnavailable(_ e: PSQLError) -> Bool {
        switch e.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: return true
        default:
            guard let state = e.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        }
    }

    static func describe(_ e: PSQLError, _ c: Configuration) -> String {
        if let info = e.serverInfo {
            var s = "\(c): \(info[.message] ?? "server error")"
            if let state = info[.sqlState] { s += " (SQLSTATE \(state))" }
            if let detail = info[.detail] { s += "; \(detail)" }
            if let hint = info[.hint] { s += "; hint: \(hint)" }
            if info[.sqlState] == "3D000" { s += "; create the database first (createdb \(c.database))" }
            return s
        }
        switch e.code {
        case .connectionError:
            let why = e.underlying.map { " (\($0))" } ?? ""
            return "cannot connect to PostgreSQL at \(c.host):\(c.port)\(why); the server must be running and accept TCP connections there"
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return "\(c): the connection to the server was closed (\(e.code)); check that the server is up and retry"
        case .poolClosed:
            return "\(c): the store was closed; open it again"
        default:
            return "\(c): \(e.code)\(e.underlying.map { ": \($0)" } ?? "")"
        }
    }


    // MARK: catalog

    /// The current id maps (users and posts by dense index).
    public func catalog() async throws -> Catalog {
        try await transaction(.repeatableReadOnly) { conn in try await self.catalog(conn) }
    }

    /// The catalog as the transaction on `conn` sees it. Loads only the users and posts the cache
    /// lacks; users and posts are never deleted, so a shorter committed state is a prefix of the cache.
    func catalog(_ conn: PostgresConnection) async throws -> Catalog {
        let row = try await conn.query(
            "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM users), (SELECT COALESCE(MAX(idx) + 1, 0) FROM posts)",
            logger: logger)
        var users = 0, posts = 0
        for try await (u, p) in row.decode((Int, Int).self) { (users, posts) = (u, p) }
        let cached = cachedCatalog.withLock { $0 } ?? Catalog()
        if cached.users.count == users, cached.posts.count == posts { return cached }

        var userIDs = Array(cached.users.externalIDs.prefix(users))
        var postIDs = Array(cached.posts.externalIDs.prefix(posts))
        try await loadTail("users", into: &userIDs, upTo: users, conn)
        try await loadTail("posts", into: &postIDs, upTo: posts, conn)
        let c = Catalog(users: IDMap(externalIDs: userIDs), posts: IDMap(externalIDs: postIDs))
        cachedCatalog.withLock { current in
            // Another call may have cached a later state meanwhile; keep the longer one.
            if (current?.users.count ?? 0) <= users, (current?.posts.count ?? 0) <= posts { current = c }
        }
        return c
    }

    private func loadTail(_ table: String, into ids: inout [String], upTo count: Int, _ conn: PostgresConnection) async throws {
        guard ids.count < count else { return }
        ids.reserveCapacity(count)
        // In ranges answered as one row of two arrays each: a row per id made loading a million
        // ids take seconds (see `readRanges`).
        let span = 200_000
        while ids.count < count {
            let (lo, hi) = (ids.count, min(count, ids.count + span))
            let rows = try await conn.query(
                "SELECT array_agg(idx ORDER BY idx), array_agg(ext_id ORDER BY idx) FROM \(unescaped: table) WHERE idx >= \(Int32(lo)) AND idx < \(Int32(hi))",
                logger: logger)
            for try await row in rows {
                var cells = ArrayCells(row)
                let idx: [Int32] = try cells.next()
                let names = try cells.strings()
                guard idx.count == names.count else { throw StoreError.damaged("\(table): ids and indices differ in number") }
                for (i, name) in zip(idx, names) {
                    guard Int(i) == ids.count else { break }
                    ids.append(name)
                }
            }
            guard ids.count == hi else {
                throw StoreError.damaged("\(table) table has a gap at index \(ids.count)")
            }
        }
    }

    public func externalIDs(usersFrom: Int32, postsFrom: Int32) async throws -> (users: [String], posts: [String]) {
        try await transaction(.repeatableReadOnly) { conn in
            func ids(_ table: String, from: Int32) async throws -> [String] {
                var out: [String] = []
                let rows = try await conn.query(
                    "SELECT ext_id FROM \(unescaped: table) WHERE idx >= \(from) ORDER BY idx", logger: self.logger)
                for try await id in rows.decode(String.self) { out.append(id) }
                return out
            }
            return (try await ids("users", from: usersFrom), try await ids("posts", from: postsFrom))
        }
    }

    // MARK: reads

    public func changes(since version: Int64, limit: Int) async throws -> [Change] {
        try await read { conn in
            let rows = try await conn.query(
                "SELECT version, op, a, b, detail, ts FROM changes WHERE version > \(version) ORDER BY version LIMIT \(limit)",
                logger: self.logger)
            var out: [Change] = []
            for try await (v, op, a, b, detail, ts) in rows.decode((Int64, Int16, Int32, Int32, Int16, Int64).self) {
                guard let op = Change.Operation(rawValue: UInt8(truncatingIfNeeded: op)) else { continue }
                out.append(Change(version: v, operation: op, a: a, b: b, detail: UInt8(truncatingIfNeeded: detail), timestamp: ts))
            }
            return out
        }
    }

    public func currentVersion() async throws -> Int64 {
        try await read { conn in try await self.version(conn) }
    }

    func version(_ conn: PostgresConnection) async throws -> Int64 {
        try await conn.scalar("SELECT COALESCE(MAX(version), 0) FROM changes", as: Int64.self, logger: logger)
    }

    public func counts() async throws -> StoreCounts {
        try await read { conn in
            let rows = try await conn.query(
                """
                SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM follows), (SELECT COUNT(*) FROM blocks),
                       (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM interactions),
                       (SELECT COALESCE(MAX(version), 0) FROM changes),
                       (SELECT COUNT(*) FROM dismissals), (SELECT COUNT(*) FROM impressions)
                """, logger: self.logger)
            var c = StoreCounts()
            for try await (u, f, b, p, i, v, d, m) in rows.decode((Int, Int, Int, Int, Int, Int64, Int, Int).self) {
                (c.users, c.follows, c.blocks, c.posts, c.interactions, c.version, c.dismissals, c.impressions) = (u, f, b, p, i, v, d, m)
            }
            return c
        }
    }
}

extension PostgresConnection {
    /// The first column of the first row.
    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: T.Type, logger: Logger) async throws -> T {
        for try await value in try await self.query(query, logger: logger).decode(T.self) { return value }
        throw StoreError.database("query returned no row: \(query.sql)")
    }
}
