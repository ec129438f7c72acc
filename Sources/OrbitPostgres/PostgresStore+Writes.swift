import Foundation
import Logging
import OrbitCore
import OrbitStore
import PostgresNIO

extension PostgresStore {
    /// Takes the store-wide write lock until the transaction ends. Versions come from a sequence,
    /// so without it two replicas could commit versions out of order and a `changes(since:)`
    /// poller could step past one that commits late.
    func lockWrites(_ conn: PostgresConnection) async throws {
        try await conn.query("SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger: logger)
    }

    /// Caches `c` unless a later catalog is cached already (writes commit in lock order, but
    /// their cache updates race).
    func remember(_ c: Catalog) {
        cachedCatalog.withLock { current in
            if (current?.users.count ?? 0) <= c.users.count, (current?.posts.count ?? 0) <= c.posts.count { current = c }
        }
    }

    // MARK: import

    public func importFiles(
        _ sources: [ImportSource], options: ImportOptions, progress: (@Sendable (String) -> Void)?
    ) async throws -> ImportSummary {
        let start = Date()
        func parse(_ existing: Catalog) throws(ImportError) -> ParsedImport {
            let importer = Importer(options: options) { file, fraction in
                progress?("parse \(sources[file].path) \(Int(fraction * 100))%")
            }
            return try importer.parse(sources, existing: existing)
        }
        // Parse outside the lock so other replicas keep writing meanwhile; parse again in the
        // rare case that they added users or posts before the lock was taken.
        let before = try await catalog()
        let early = try parse(before)
        let parsedAt = Date()
        let (summary, catalog) = try await transaction { conn in
            try await self.lockWrites(conn)
            let now = try await self.catalog(conn)
            let parsed = now.users.count == before.users.count && now.posts.count == before.posts.count ? early : try parse(now)
            var summary = ImportSummary(report: parsed.report)
            summary.parseSeconds = Date().timeIntervalSince(start)
            progress?("write")
            try await self.write(parsed, into: &summary, conn)
            return (summary, parsed.catalog)
        }
        remember(catalog)
        var s = summary
        s.parseSeconds = min(s.parseSeconds, parsedAt.timeIntervalSince(start))
        s.seconds = Date().timeIntervalSince(start)
        s.writeSeconds = s.seconds - s.parseSeconds
        return s
    }

    private func write(_ p: ParsedImport, into summary: inout ImportSummary, _ conn: PostgresConnection) async throws {
        // New users get their users-file values in the insert; known users are updated. The last
        // row of a user wins, as in SQLiteStore.
        var rowOf: [UserIndex: (Timestamp, UserFlags)] = [:]
        for row in p.userRows { rowOf[row.index] = (row.createdAt, row.flags) }
        let updates = rowOf.filter { $0.key < p.firstNewUser }.sorted { $0.key < $1.key }
        for chunk in stride(from: 0, to: updates.count, by: Self.arrayChunk) {
            let part = updates[chunk..<min(chunk + Self.arrayChunk, updates.count)]
            let idx = part.map(\.key), created = part.map(\.value.0), flags = part.map { Int16($0.value.1.rawValue) }
            summary.usersUpdated += try await conn.scalar(
                """
                WITH v AS (SELECT * FROM unnest(\(idx)::int4[], \(created)::int8[], \(flags)::int2[]) AS v(idx, created_at, flags)),
                     u AS (UPDATE users SET created_at = v.created_at, flags = v.flags FROM v
                           WHERE users.idx = v.idx AND (users.created_at <> v.created_at OR users.flags <> v.flags)
                           RETURNING 1)
                SELECT COUNT(*) FROM u
                """, as: Int.self, logger: logger)
        }
        summary.usersUpdated += rowOf.count - updates.count

        let firstNew = Int(p.firstNewUser)
        try await conn.copy(into: "users", columns: ["idx", "ext_id", "created_at", "flags"], count: p.newUserCount, logger: logger) {
            rows, k in
            let i = firstNew + k
            let row = rowOf[Int32(i)]
            rows.int(Int64(i))
            rows.text(p.catalog.users.externalIDs[i])
            rows.int(row?.0 ?? 0)
            rows.int(Int64(row?.1.rawValue ?? 0))
        }
        summary.newUsers = p.newUserCount

        try await conn.copy(into: "posts", columns: ["idx", "ext_id", "author", "created_at"], count: p.newPosts.count, logger: logger) {
            rows, k in
            let post = p.newPosts[k]
            rows.int(post.index)
            rows.text(p.catalog.posts.externalID(of: post.index))
            rows.int(post.author)
            rows.int(post.createdAt)
        }
        summary.newPosts = p.newPostCount

        // Sorted and without repeats (the first row of a pair wins, as SQLite's INSERT OR IGNORE in
        // key order does), the follows can go straight into an empty table and, otherwise, into the
        // B-tree in key order.
        let f = p.follows
        var order = Array(0..<f.followFollower.count)
        order.sort { (f.followFollower[$0], f.followFollowee[$0], $0) < (f.followFollower[$1], f.followFollowee[$1], $1) }
        var unique: [Int] = []
        unique.reserveCapacity(order.count)
        for e in order {
            if let last = unique.last, f.followFollower[last] == f.followFollower[e], f.followFollowee[last] == f.followFollowee[e] {
                continue
            }
            unique.append(e)
        }
        let followsEmpty = try await conn.scalar("SELECT NOT EXISTS (SELECT 1 FROM follows)", as: Bool.self, logger: logger)
        summary.followsAdded = try await insertIgnoringDuplicates(
            conn, table: "follows", columns: ["follower", "followee", "created_at", "rank"], count: unique.count,
            tableIsEmpty: followsEmpty
        ) { rows, k in
            let e = unique[k]
            rows.int(f.followFollower[e])
            rows.int(f.followFollowee[e])
            rows.int(f.followCreatedAt[e])
            if let rank = p.followRank[e] { rows.int(rank) } else { rows.null() }
        }
        summary.followsAlreadyPresent = order.count - summary.followsAdded

        summary.blocksAdded = try await insertIgnoringDuplicates(
            conn, table: "blocks", columns: ["user", "blocked", "created_at"], count: f.blockUser.count, tableIsEmpty: false
        ) { rows, e in
            rows.int(f.blockUser[e])
            rows.int(f.blockBlocked[e])
            rows.int(Int64(0))
        }

        summary.interactionsAdded = try await insertIgnoringDuplicates(
            conn, table: "interactions", columns: ["user", "post", "kind", "ts"], count: f.interactionUser.count, tableIsEmpty: false
        ) { rows, e in
            rows.int(f.interactionUser[e])
            rows.int(f.interactionPost[e])
            rows.int(Int64(f.interactionKind[e]))
            rows.int(f.interactionTime[e])
        }
        summary.interactionsAlreadyPresent = f.interactionUser.count - summary.interactionsAdded

        let wrote = summary.newUsers + summary.usersUpdated + summary.newPosts + summary.followsAdded
            + summary.blocksAdded + summary.interactionsAdded
        if wrote > 0 {
            try await conn.query(
                "INSERT INTO changes (op, a, b, detail, ts) VALUES (\(Int16(Change.Operation.bulkImport.rawValue)), 0, 0, 0, \(Int64(Date().timeIntervalSince1970)))",
                logger: logger)
        }
        summary.version = try await version(conn)
    }

    /// Rows per array-bound statement: large enough to amortise the round trip, small enough to
    /// keep one message well under PostgreSQL's 1 GB limit.
    static let arrayChunk = 50_000

    /// COPYs rows into `table` and returns how many were new. Rows that may already exist go
    /// through a temporary table and `INSERT … ON CONFLICT DO NOTHING`, since COPY cannot skip them.
    private func insertIgnoringDuplicates(
        _ conn: PostgresConnection, table: String, columns: [String], count: Int, tableIsEmpty: Bool,
        row: (inout CopyRows, Int) -> Void
    ) async throws -> Int {
        guard count > 0 else { return 0 }
        if tableIsEmpty {
            try await conn.copy(into: table, columns: columns, count: count, logger: logger, row: row)
            return count
        }
        let stage = "orbit_stage_\(table)"
        let list = columns.map(Self.quoted).joined(separator: ", ")
        try await conn.query(
            "CREATE TEMP TABLE \(unescaped: stage) (LIKE \(unescaped: table) INCLUDING DEFAULTS) ON COMMIT DROP", logger: logger)
        try await conn.copy(into: stage, columns: columns, count: count, logger: logger, row: row)
        return try await conn.scalar(
            """
            WITH i AS (INSERT INTO \(unescaped: table) (\(unescaped: list)) SELECT \(unescaped: list) FROM \(unescaped: stage)
                       ON CONFLICT DO NOTHING RETURNING 1)
            SELECT COUNT(*) FROM i
            """, as: Int.self, logger: logger)
    }

    // MARK: events

    @discardableResult
    public func append(_ events: [Event]) async throws -> Int64 {
        let (version, catalog) = try await transaction { conn in
            try await self.lockWrites(conn)
            var catalog = try await self.catalog(conn)
            try await self.apply(events, catalog: &catalog, conn)
            return (try await self.version(conn), catalog)
        }
        // Only a committed catalog is cached: a refused batch leaves the cache as it was.
        remember(catalog)
        return version
    }

    /// Writes each resolved event and, in the same statement, its change row when it changed a row.
    private func apply(_ events: [Event], catalog: inout Catalog, _ conn: PostgresConnection) async throws {
        let logger = self.logger
        /// Runs `write` and logs a change for each row it returns: one round trip per event.
        func logged(
            _ write: PostgresQuery, _ op: Change.Operation, _ a: Int32, _ b: Int32, _ detail: UInt8, _ t: Timestamp
        ) async throws {
            var binds = write.binds
            let n = binds.count
            binds.append(Int16(op.rawValue))
            binds.append(a)
            binds.append(b)
            binds.append(Int16(detail))
            binds.append(t)
            let sql = "WITH n AS (\(write.sql) RETURNING 1) INSERT INTO changes (op, a, b, detail, ts) "
                + "SELECT $\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5) FROM n"
            try await conn.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        }
        for write in try catalog.resolve(events) {
            switch write {
            case .newUser(let u, let id, let t):
                try await logged("INSERT INTO users (idx, ext_id, created_at) VALUES (\(u), \(id), \(t))", .user, u, 0, 0, t)
            case .follow(let u, let v, let t):
                try await logged(
                    "INSERT INTO follows (follower, followee, created_at) VALUES (\(u), \(v), \(t)) ON CONFLICT DO NOTHING",
                    .follow, u, v, 0, t)
            case .unfollow(let u, let v, let t):
                try await logged("DELETE FROM follows WHERE follower = \(u) AND followee = \(v)", .unfollow, u, v, 0, t)
            case .block(let u, let v, let t):
                try await logged(
                    #"INSERT INTO blocks ("user", blocked, created_at) VALUES (\#(u), \#(v), \#(t)) ON CONFLICT DO NOTHING"#,
                    .block, u, v, 0, t)
            case .unblock(let u, let v, let t):
                try await logged(#"DELETE FROM blocks WHERE "user" = \#(u) AND blocked = \#(v)"#, .unblock, u, v, 0, t)
            case .newPost(let p, let id, let a, let t):
                try await logged(
                    "INSERT INTO posts (idx, ext_id, author, created_at) VALUES (\(p), \(id), \(a), \(t))", .post, a, p, 0, t)
            case .interaction(let u, let p, let kind, let t):
                try await logged(
                    #"INSERT INTO interactions ("user", post, kind, ts) VALUES (\#(u), \#(p), \#(Int16(kind.rawValue)), \#(t)) ON CONFLICT DO NOTHING"#,
                    .interaction, u, p, kind.rawValue, t)
            case .setFlags(let u, let flags, let t):
                let f = Int16(flags.rawValue)
                try await logged("UPDATE users SET flags = \(f) WHERE idx = \(u) AND flags <> \(f)", .setFlags, u, 0, flags.rawValue, t)
            }
        }
    }
}
