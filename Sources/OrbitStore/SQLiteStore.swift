import Foundation
import GRDB
import OrbitCore
import Synchronization

/// How much a committed write is promised to survive.
public enum Durability: String, Sendable, Codable, CaseIterable {
    /// A committed transaction survives a process crash, an operating-system crash and a power
    /// loss: SQLite's `synchronous = FULL`, which syncs the write-ahead log at every commit. The
    /// default: an acknowledged write is on disk.
    case full
    /// A committed transaction survives a process crash but can be lost, whole, on an OS crash or
    /// power loss (`synchronous = NORMAL` in WAL mode: the log is synced at checkpoints only). The
    /// store stays consistent either way. Faster for many small writes; never the default.
    case normal
}

/// The embedded `Store`: one SQLite file in WAL mode, no server to run.
///
/// Writes are serialised by GRDB's writer; reads (snapshot loads) run beside them on a WAL
/// snapshot. Each import and each `append` is one transaction, so a crash leaves the last
/// committed state; with `Durability.full` (the default) a committed transaction is on disk
/// before the call returns, so it also survives a power loss.
public final class SQLiteStore: BlockingSnapshotRead {
    public let path: String
    /// What a committed write survives.
    public let durability: Durability
    private let pool: DatabasePool
    /// The id maps, kept in memory because every import and event needs them; checked against
    /// the table sizes at each write so another process's writes are noticed.
    private let cachedCatalog = Mutex<Catalog?>(nil)

    public static let schemaVersion = 2

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -262144")  // 256 MiB page cache for bulk loads
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        config.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // Set on the writer after the pool opens: GRDB's WAL set-up sets NORMAL after
            // `prepareDatabase` runs. A bulk import is one transaction, so FULL costs it one sync
            // of the log at its commit: no weaker mode is needed to keep imports fast.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            }
            try Self.migrator.migrate(pool)
        } catch let e as DatabaseError {
            throw StoreError.database("\(path): \(e.message ?? e.description)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    idx INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL DEFAULT 0, flags INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE posts (
                    idx INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,
                    author INTEGER NOT NULL, created_at INTEGER NOT NULL);
                CREATE INDEX posts_by_author ON posts(author, created_at);
                CREATE TABLE follows (
                    follower INTEGER NOT NULL, followee INTEGER NOT NULL,
                    created_at INTEGER NOT NULL, rank INTEGER,
                    PRIMARY KEY (follower, followee)) WITHOUT ROWID;
                CREATE TABLE blocks (
                    user INTEGER NOT NULL, blocked INTEGER NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (user, blocked)) WITHOUT ROWID;
                CREATE TABLE interactions (
                    user INTEGER NOT NULL, post INTEGER NOT NULL, kind INTEGER NOT NULL, ts INTEGER NOT NULL,
                    PRIMARY KEY (user, post, kind, ts)) WITHOUT ROWID;
                CREATE TABLE changes (
                    version INTEGER PRIMARY KEY AUTOINCREMENT, op INTEGER NOT NULL,
                    a INTEGER NOT NULL, b INTEGER NOT NULL, detail INTEGER NOT NULL, ts INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE dismissals (
                    user INTEGER NOT NULL, candidate INTEGER NOT NULL, reason INTEGER NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (user, candidate)) WITHOUT ROWID;
                CREATE TABLE impressions (
                    user INTEGER NOT NULL, candidate INTEGER NOT NULL, surface TEXT NOT NULL, shown_at INTEGER NOT NULL);
                CREATE INDEX impressions_by_time ON impressions(shown_at);
                """)
        }
        return m
    }

    // MARK: catalog

    /// The current id maps (users and posts by dense index).
    public func catalog() async throws -> Catalog {
        try await pool.read { db in try self.catalog(db) }
    }

    private func catalog(_ db: Database) throws -> Catalog {
        let users = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM users") ?? 0
        let posts = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM posts") ?? 0
        if let c = cachedCatalog.withLock({ $0 }), c.users.count == users, c.posts.count == posts { return c }
        var userIDs: [String] = []
        userIDs.reserveCapacity(users)
        try RawStatement(db, "SELECT idx, ext_id FROM users ORDER BY idx").forEach { s in
            guard columnInt(s, 0) == Int64(userIDs.count) else {
                throw StoreError.damaged("users table has a gap at index \(userIDs.count)")
            }
            userIDs.append(columnText(s, 1))
        }
        var postIDs: [String] = []
        postIDs.reserveCapacity(posts)
        try RawStatement(db, "SELECT idx, ext_id FROM posts ORDER BY idx").forEach { s in
            guard columnInt(s, 0) == Int64(postIDs.count) else {
                throw StoreError.damaged("posts table has a gap at index \(postIDs.count)")
            }
            postIDs.append(columnText(s, 1))
        }
        let c = Catalog(users: IDMap(externalIDs: userIDs), posts: IDMap(externalIDs: postIDs))
        cachedCatalog.withLock { $0 = c }
        return c
    }

    /// The value of an integer PRAGMA on the writer connection (`synchronous`: 2 FULL, 1 NORMAL),
    /// for tests and diagnostics.
    func pragma(_ name: String) async throws -> Int {
        try await pool.write { db in try Int.fetchOne(db, sql: "PRAGMA \(name)") ?? -1 }
    }

    /// The journal mode ("wal"), for tests and diagnostics.
    func journalMode() async throws -> String {
        try await pool.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: import

    public func importFiles(
        _ sources: [ImportSource], options: ImportOptions, progress: (@Sendable (String) -> Void)?
    ) async throws -> ImportSummary {
        do { return try await importNow(sources, options: options, progress: progress) } catch { throw StoreError.mapping(error, path: path) }
    }

    /// `PRAGMA integrity_check`: ["ok"] for a sound file, else SQLite's list of problems.
    public func integrityCheck() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    private func importNow(
        _ sources: [ImportSource], options: ImportOptions, progress: (@Sendable (String) -> Void)?
    ) async throws -> ImportSummary {
        let start = Date()
        return try await pool.writeWithoutTransaction { db in
            let importer = Importer(options: options) { file, fraction in
                progress?("parse \(sources[file].path) \(Int(fraction * 100))%")
            }
            let existing = try self.catalog(db)
            var parsed = try importer.parse(sources, existing: existing)
            var summary = ImportSummary(report: parsed.report)
            var parsedAt = Date()
            // IMMEDIATE takes the write lock first, so the ids counted next are final; another
            // process may have added some while this one parsed, and then it parses again.
            try db.inTransaction(.immediate) {
                let now = try self.catalog(db)
                if now.users.count != existing.users.count || now.posts.count != existing.posts.count {
                    parsed = try importer.parse(sources, existing: now)
                    summary = ImportSummary(report: parsed.report)
                    parsedAt = Date()
                }
                summary.parseSeconds = parsedAt.timeIntervalSince(start)
                progress?("write")
                try self.write(parsed, into: &summary, db: db)
                return .commit
            }
            self.cachedCatalog.withLock { $0 = parsed.catalog }
            summary.seconds = Date().timeIntervalSince(start)
            summary.writeSeconds = Date().timeIntervalSince(parsedAt)
            return summary
        }
    }

    private func write(_ p: ParsedImport, into summary: inout ImportSummary, db: Database) throws {
        // New users get their users-file values in the insert; known users are updated.
        var rowOf: [UserIndex: (Timestamp, UserFlags)] = [:]
        let updateUser = try RawStatement(
            db, "UPDATE users SET created_at = ?1, flags = ?2 WHERE idx = ?3 AND (created_at != ?1 OR flags != ?2)")
        for row in p.userRows {
            if row.index >= p.firstNewUser {
                rowOf[row.index] = (row.createdAt, row.flags)
                continue
            }
            updateUser.bind(1, row.createdAt)
            updateUser.bind(2, Int64(row.flags.rawValue))
            updateUser.bind(3, Int64(row.index))
            summary.usersUpdated += try updateUser.run()
        }
        summary.usersUpdated += rowOf.count
        let firstNew = Int(p.firstNewUser)
        summary.newUsers = try Self.insertRows(
            db, "INSERT INTO users (idx, ext_id, created_at, flags) VALUES", columns: 4, count: p.newUserCount
        ) { st, base, k in
            let i = firstNew + k
            let row = rowOf[Int32(i)]
            st.bind(base + 1, Int64(i))
            st.bind(base + 2, p.catalog.users.externalIDs[i])
            st.bind(base + 3, row?.0 ?? 0)
            st.bind(base + 4, Int64(row?.1.rawValue ?? 0))
        }

        let insertPost = try RawStatement(db, "INSERT INTO posts (idx, ext_id, author, created_at) VALUES (?, ?, ?, ?)")
        for post in p.newPosts {
            insertPost.bind(1, Int64(post.index))
            insertPost.bind(2, p.catalog.posts.externalID(of: post.index))
            insertPost.bind(3, Int64(post.author))
            insertPost.bind(4, post.createdAt)
            try insertPost.run()
        }
        summary.newPosts = p.newPostCount

        // Inserting in key order keeps the B-tree appends local: several times faster on big graphs.
        let f = p.follows
        var order = Array(0..<f.followFollower.count)
        if !Self.isSorted(f.followFollower, f.followFollowee) {
            order.sort { (f.followFollower[$0], f.followFollowee[$0]) < (f.followFollower[$1], f.followFollowee[$1]) }
        }
        summary.followsAdded = try Self.insertRows(
            db, "INSERT OR IGNORE INTO follows (follower, followee, created_at, rank) VALUES", columns: 4, count: order.count
        ) { st, base, i in
            let e = order[i]
            st.bind(base + 1, Int64(f.followFollower[e]))
            st.bind(base + 2, Int64(f.followFollowee[e]))
            st.bind(base + 3, f.followCreatedAt[e])
            st.bind(base + 4, p.followRank[e])
        }
        summary.followsAlreadyPresent = order.count - summary.followsAdded

        let insertBlock = try RawStatement(db, "INSERT OR IGNORE INTO blocks (user, blocked, created_at) VALUES (?, ?, 0)")
        for e in 0..<f.blockUser.count {
            insertBlock.bind(1, Int64(f.blockUser[e]))
            insertBlock.bind(2, Int64(f.blockBlocked[e]))
            summary.blocksAdded += try insertBlock.run()
        }

        summary.interactionsAdded = try Self.insertRows(
            db, "INSERT OR IGNORE INTO interactions (user, post, kind, ts) VALUES", columns: 4, count: f.interactionUser.count
        ) { st, base, e in
            st.bind(base + 1, Int64(f.interactionUser[e]))
            st.bind(base + 2, Int64(f.interactionPost[e]))
            st.bind(base + 3, Int64(f.interactionKind[e]))
            st.bind(base + 4, f.interactionTime[e])
        }
        summary.interactionsAlreadyPresent = f.interactionUser.count - summary.interactionsAdded

        let insertDismissal = try RawStatement(
            db, "INSERT OR IGNORE INTO dismissals (user, candidate, reason, created_at) VALUES (?, ?, ?, ?)")
        for e in 0..<f.dismissUser.count {
            insertDismissal.bind(1, Int64(f.dismissUser[e]))
            insertDismissal.bind(2, Int64(f.dismissCandidate[e]))
            insertDismissal.bind(3, Int64(p.dismissalReason[e].rawValue))
            insertDismissal.bind(4, p.dismissalTime[e])
            summary.dismissalsAdded += try insertDismissal.run()
        }

        let wrote = summary.newUsers + summary.usersUpdated + summary.newPosts + summary.followsAdded
            + summary.blocksAdded + summary.interactionsAdded + summary.dismissalsAdded
        if wrote > 0 {
            try db.execute(
                sql: "INSERT INTO changes (op, a, b, detail, ts) VALUES (?, 0, 0, 0, ?)",
                arguments: [Change.Operation.bulkImport.rawValue, Int64(Date().timeIntervalSince1970)])
        }
        summary.version = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM changes") ?? 0
    }

    /// Inserts `count` rows through multi-row statements (`VALUES (?,?),(?,?)…`), which cut SQLite's
    /// per-statement overhead in bulk loads; `bind(statement, firstParameter - 1, row)` binds one row.
    /// Returns the number of rows inserted.
    static func insertRows(
        _ db: Database, _ prefix: String, columns: Int, count: Int,
        bind: (RawStatement, Int32, Int) -> Void
    ) throws -> Int {
        let batch = 64
        let tuple = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        func statement(rows: Int) throws -> RawStatement {
            try RawStatement(db, prefix + " " + Array(repeating: tuple, count: rows).joined(separator: ","))
        }
        let full = try statement(rows: batch)
        var inserted = 0
        var start = 0
        while start < count {
            let rows = min(batch, count - start)
            let st = rows == batch ? full : try statement(rows: rows)
            for r in 0..<rows { bind(st, Int32(r * columns), start + r) }
            inserted += try st.run()
            start += rows
        }
        return inserted
    }

    private static func isSorted(_ a: [Int32], _ b: [Int32]) -> Bool {
        guard a.count > 1 else { return true }
        for i in 1..<a.count where (a[i - 1], b[i - 1]) >= (a[i], b[i]) { return false }
        return true
    }

    // MARK: events

    @discardableResult
    public func append(_ events: [Event]) async throws -> Int64 {
        do { return try await appendNow(events) } catch { throw StoreError.mapping(error, path: path) }
    }

    private func appendNow(_ events: [Event]) async throws -> Int64 {
        try await pool.writeWithoutTransaction { db in
            var catalog = Catalog()
            // IMMEDIATE takes the write lock before the ids are counted: another process's new
            // users are seen, and none can be added before this commits. The cache is replaced
            // only after a commit, so a refused batch leaves it as it was.
            try db.inTransaction(.immediate) {
                catalog = try self.catalog(db)
                try self.apply(events, catalog: &catalog, db: db)
                return .commit
            }
            self.cachedCatalog.withLock { $0 = catalog }
            return try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM changes") ?? 0
        }
    }

    private func apply(_ events: [Event], catalog: inout Catalog, db: Database) throws {
        let writes = try catalog.resolve(events)
        let logChange = try RawStatement(db, "INSERT INTO changes (op, a, b, detail, ts) VALUES (?, ?, ?, ?, ?)")
        /// Runs `sql` with `binds` and logs the change when it changed a row.
        func logged(
            _ sql: String, _ binds: [Int64], text: String? = nil,
            _ op: Change.Operation, _ a: Int32, _ b: Int32, _ detail: UInt8, _ t: Timestamp
        ) throws {
            let n = try RawStatement(db, sql)
            for (k, v) in binds.enumerated() { n.bind(Int32(k + 1), v) }
            if let text { n.bind(Int32(binds.count + 1), text) }
            guard try n.run() > 0 else { return }
            logChange.bind(1, Int64(op.rawValue))
            logChange.bind(2, Int64(a))
            logChange.bind(3, Int64(b))
            logChange.bind(4, Int64(detail))
            logChange.bind(5, t)
            try logChange.run()
        }

        for write in writes {
            switch write {
            case .newUser(let u, let id, let t):
                try logged("INSERT INTO users (idx, created_at, ext_id) VALUES (?, ?, ?)", [Int64(u), t], text: id, .user, u, 0, 0, t)
            case .follow(let u, let v, let t):
                try logged(
                    "INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)", [Int64(u), Int64(v), t],
                    .follow, u, v, 0, t)
            case .unfollow(let u, let v, let t):
                try logged("DELETE FROM follows WHERE follower = ? AND followee = ?", [Int64(u), Int64(v)], .unfollow, u, v, 0, t)
            case .block(let u, let v, let t):
                try logged(
                    "INSERT OR IGNORE INTO blocks (user, blocked, created_at) VALUES (?, ?, ?)", [Int64(u), Int64(v), t],
                    .block, u, v, 0, t)
            case .unblock(let u, let v, let t):
                try logged("DELETE FROM blocks WHERE user = ? AND blocked = ?", [Int64(u), Int64(v)], .unblock, u, v, 0, t)
            case .newPost(let p, let id, let a, let t):
                try logged(
                    "INSERT INTO posts (idx, author, created_at, ext_id) VALUES (?, ?, ?, ?)", [Int64(p), Int64(a), t], text: id,
                    .post, a, p, 0, t)
            case .interaction(let u, let p, let kind, let t):
                try logged(
                    "INSERT OR IGNORE INTO interactions (user, post, kind, ts) VALUES (?, ?, ?, ?)",
                    [Int64(u), Int64(p), Int64(kind.rawValue), t], .interaction, u, p, kind.rawValue, t)
            case .setFlags(let u, let flags, let t):
                let f = Int64(flags.rawValue)
                try logged("UPDATE users SET flags = ? WHERE idx = ? AND flags != ?", [f, Int64(u), f], .setFlags, u, 0, flags.rawValue, t)
            case .dismiss(let u, let v, let reason, let t):
                try logged(
                    "INSERT OR IGNORE INTO dismissals (user, candidate, reason, created_at) VALUES (?, ?, ?, ?)",
                    [Int64(u), Int64(v), Int64(reason.rawValue), t], .dismiss, u, v, reason.rawValue, t)
            case .undismiss(let u, let v, let t):
                try logged("DELETE FROM dismissals WHERE user = ? AND candidate = ?", [Int64(u), Int64(v)], .undismiss, u, v, 0, t)
            case .impression(let u, let v, let surface, let t):
                try logged(
                    "INSERT INTO impressions (user, candidate, shown_at, surface) VALUES (?, ?, ?, ?)", [Int64(u), Int64(v), t], text: surface,
                    .impression, u, v, 0, t)
            }
        }
    }

    // MARK: reads

    public func loadSnapshot() async throws -> LoadedSnapshot {
        let (columns, catalog) = try await loadColumns()
        return LoadedSnapshot(snapshot: Snapshot.build(columns), catalog: catalog)
    }

    /// Reads every table into snapshot columns. Follows, interactions and the rest are read by
    /// three concurrent read transactions; every write adds a row to `changes`, so equal versions
    /// in all three prove they saw the same state. On a race it retries, then reads serially.
    public func loadColumns() async throws -> (Snapshot.Columns, Catalog) {
        for _ in 0..<3 {
            async let a = pool.read { db in try self.readBase(db) }
            async let f = pool.read { db in try self.readFollows(db) }
            async let i = pool.read { db in try self.readInteractions(db) }
            var (c, catalog) = try await a
            let (fv, follows) = try await f
            let (iv, interactions) = try await i
            guard fv == c.version, iv == c.version else { continue }
            (c.followFollower, c.followFollowee, c.followCreatedAt) = follows
            (c.interactionUser, c.interactionPost, c.interactionKind, c.interactionTime) = interactions
            return (c, catalog)
        }
        return try await pool.read { db in try self.readAll(db) }
    }

    /// Every table in one read transaction, one after the other.
    private func readAll(_ db: Database) throws -> (Snapshot.Columns, Catalog) {
        var (c, catalog) = try readBase(db)
        (_, (c.followFollower, c.followFollowee, c.followCreatedAt)) = try readFollows(db)
        (_, (c.interactionUser, c.interactionPost, c.interactionKind, c.interactionTime)) = try readInteractions(db)
        return (c, catalog)
    }

    /// One read transaction on the calling thread (GRDB runs a synchronous read there), the
    /// tables one after the other: one core's worth of work, at the calling thread's priority.
    public func loadColumnsBlocking() throws -> (Snapshot.Columns, Catalog) {
        try pool.read { db in try readAll(db) }
    }

    private func version(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM changes") ?? 0
    }

    /// Users, blocks, posts and the catalog.
    private func readBase(_ db: Database) throws -> (Snapshot.Columns, Catalog) {
        let catalog = try catalog(db)
        var c = Snapshot.Columns()
        c.version = try version(db)
        c.userCount = catalog.users.count
        c.userFlags = Array(repeating: [], count: c.userCount)
        c.userCreatedAt = Array(repeating: 0, count: c.userCount)
        try RawStatement(db, "SELECT idx, created_at, flags FROM users").forEach { s in
            let i = Int(columnInt(s, 0))
            c.userCreatedAt[i] = columnInt(s, 1)
            c.userFlags[i] = UserFlags(rawValue: UInt8(truncatingIfNeeded: columnInt(s, 2)))
        }
        try RawStatement(db, "SELECT user, blocked FROM blocks").forEach { s in
            c.blockUser.append(Int32(truncatingIfNeeded: columnInt(s, 0)))
            c.blockBlocked.append(Int32(truncatingIfNeeded: columnInt(s, 1)))
        }
        try RawStatement(db, "SELECT user, candidate FROM dismissals").forEach { s in
            c.dismissUser.append(Int32(truncatingIfNeeded: columnInt(s, 0)))
            c.dismissCandidate.append(Int32(truncatingIfNeeded: columnInt(s, 1)))
        }
        // Impressions older than the longest discounting window are never read again.
        let since = try RawStatement(db, "SELECT user, candidate, shown_at FROM impressions WHERE shown_at >= ?")
        since.bind(1, (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(shown_at), 0) FROM impressions") ?? 0) - ImpressionHistory.maxAge)
        try since.forEach { s in
            c.impressionUser.append(Int32(truncatingIfNeeded: columnInt(s, 0)))
            c.impressionCandidate.append(Int32(truncatingIfNeeded: columnInt(s, 1)))
            c.impressionTime.append(columnInt(s, 2))
        }
        c.postAuthor = Array(repeating: 0, count: catalog.posts.count)
        c.postCreatedAt = Array(repeating: 0, count: catalog.posts.count)
        try RawStatement(db, "SELECT idx, author, created_at FROM posts").forEach { s in
            let i = Int(columnInt(s, 0))
            c.postAuthor[i] = Int32(truncatingIfNeeded: columnInt(s, 1))
            c.postCreatedAt[i] = columnInt(s, 2)
        }
        return (c, catalog)
    }

    private func readFollows(_ db: Database) throws -> (Int64, ([UserIndex], [UserIndex], [Timestamp])) {
        let v = try version(db)
        let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM follows") ?? 0
        var a: [UserIndex] = [], b: [UserIndex] = [], t: [Timestamp] = []
        a.reserveCapacity(n); b.reserveCapacity(n); t.reserveCapacity(n)
        try RawStatement(db, "SELECT follower, followee, created_at FROM follows").forEach { s in
            a.append(Int32(truncatingIfNeeded: columnInt(s, 0)))
            b.append(Int32(truncatingIfNeeded: columnInt(s, 1)))
            t.append(columnInt(s, 2))
        }
        return (v, (a, b, t))
    }

    private func readInteractions(_ db: Database) throws -> (Int64, ([UserIndex], [PostIndex], [UInt8], [Timestamp])) {
        let v = try version(db)
        var u: [UserIndex] = [], p: [PostIndex] = [], k: [UInt8] = [], t: [Timestamp] = []
        try RawStatement(db, "SELECT user, post, kind, ts FROM interactions").forEach { s in
            u.append(Int32(truncatingIfNeeded: columnInt(s, 0)))
            p.append(Int32(truncatingIfNeeded: columnInt(s, 1)))
            k.append(UInt8(truncatingIfNeeded: columnInt(s, 2)))
            t.append(columnInt(s, 3))
        }
        return (v, (u, p, k, t))
    }

    public func changes(since version: Int64, limit: Int) async throws -> [Change] {
        try await pool.read { db in
            var out: [Change] = []
            let s = try RawStatement(
                db, "SELECT version, op, a, b, detail, ts FROM changes WHERE version > ? ORDER BY version LIMIT ?")
            s.bind(1, version)
            s.bind(2, Int64(limit))
            try s.forEach { r in
                guard let op = Change.Operation(rawValue: UInt8(truncatingIfNeeded: columnInt(r, 1))) else { return }
                out.append(Change(
                    version: columnInt(r, 0), operation: op,
                    a: Int32(truncatingIfNeeded: columnInt(r, 2)), b: Int32(truncatingIfNeeded: columnInt(r, 3)),
                    detail: UInt8(truncatingIfNeeded: columnInt(r, 4)), timestamp: columnInt(r, 5)))
            }
            return out
        }
    }

    public func currentVersion() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM changes") ?? 0 }
    }

    public func externalIDs(usersFrom: Int32, postsFrom: Int32) async throws -> (users: [String], posts: [String]) {
        try await pool.read { db in
            func ids(_ table: String, from: Int32) throws -> [String] {
                var out: [String] = []
                let s = try RawStatement(db, "SELECT ext_id FROM \(table) WHERE idx >= ? ORDER BY idx")
                s.bind(1, Int64(from))
                try s.forEach { out.append(columnText($0, 0)) }
                return out
            }
            return (try ids("users", from: usersFrom), try ids("posts", from: postsFrom))
        }
    }

    public func counts() async throws -> StoreCounts {
        try await pool.read { db in
            var c = StoreCounts()
            c.users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            c.follows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM follows") ?? 0
            c.blocks = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blocks") ?? 0
            c.posts = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM posts") ?? 0
            c.interactions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM interactions") ?? 0
            c.dismissals = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dismissals") ?? 0
            c.impressions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM impressions") ?? 0
            c.version = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM changes") ?? 0
            return c
        }
    }
}
