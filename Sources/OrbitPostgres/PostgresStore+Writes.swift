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
        @Sendable func parse(_ existing: Catalog) throws(ImportError) -> ParsedImport {
            let importer = Importer(options: options) { file, fraction in
                progress?("parse \(sources[file].path) \(Int(fraction * 100))%")
            }
            return try importer.parse(sources, existing: existing)
        }
        // Parse outside the lock so other replicas keep writing meanwhile; parse again in the
        // rare case that they added users or posts before the lock was taken.
        let before = try await catalog()
        let early = try parse(before)
        let (summary, catalog) = try await transaction { conn in
            try await self.lockWrites(conn)
            let now = try await self.catalog(conn)
            let same = now.users.count == before.users.count && now.posts.count == before.posts.count
            let parsed = same ? early : try parse(now)
            var summary = ImportSummary(report: parsed.report)
            // Waiting for the lock counts as parsing: writing starts here.
            summary.parseSeconds = Date().timeIntervalSince(start)
            progress?("write")
            try await self.write(parsed, into: &summary, conn)
            return (summary, parsed.catalog)
        }
        remember(catalog)
        var s = summary
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

        // In key order and without repeats (the first row of a key wins, as SQLite's INSERT OR
        // IGNORE in key order does), rows go into the B-trees sequentially (several times faster
        // than in file order) and straight into an empty table, without ON CONFLICT.
        let f = p.follows
        let follows = Self.keyOrder(f.followFollower.count) {
            (f.followFollower[$0], f.followFollowee[$0], $0) < (f.followFollower[$1], f.followFollowee[$1], $1)
        } same: {
            f.followFollower[$0] == f.followFollower[$1] && f.followFollowee[$0] == f.followFollowee[$1]
        }
        summary.followsAdded = try await insertIgnoringDuplicates(
            conn, table: "follows", columns: ["follower", "followee", "created_at", "rank"], count: follows.count
        ) { rows, k in
            let e = follows[k]
            rows.int(f.followFollower[e])
            rows.int(f.followFollowee[e])
            rows.int(f.followCreatedAt[e])
            if let rank = p.followRank[e] { rows.int(rank) } else { rows.null() }
        }
        summary.followsAlreadyPresent = f.followFollower.count - summary.followsAdded

        let blocks = Self.keyOrder(f.blockUser.count) {
            (f.blockUser[$0], f.blockBlocked[$0]) < (f.blockUser[$1], f.blockBlocked[$1])
        } same: {
            f.blockUser[$0] == f.blockUser[$1] && f.blockBlocked[$0] == f.blockBlocked[$1]
        }
        summary.blocksAdded = try await insertIgnoringDuplicates(
            conn, table: "blocks", columns: ["user", "blocked", "created_at"], count: blocks.count
        ) { rows, k in
            let e = blocks[k]
            rows.int(f.blockUser[e])
            rows.int(f.blockBlocked[e])
            rows.int(Int64(0))
        }

        func key(_ e: Int) -> (Int32, Int32, UInt8, Int64) {
            (f.interactionUser[e], f.interactionPost[e], f.interactionKind[e], f.interactionTime[e])
        }
        let interactions = Self.keyOrder(f.interactionUser.count) { key($0) < key($1) } same: { key($0) == key($1) }
        summary.interactionsAdded = try await insertIgnoringDuplicates(
            conn, table: "interactions", columns: ["user", "post", "kind", "ts"], count: interactions.count
        ) { rows, k in
            let e = interactions[k]
            rows.int(f.interactionUser[e])
            rows.int(f.interactionPost[e])
            rows.int(Int64(f.interactionKind[e]))
            rows.int(f.interactionTime[e])
        }
        summary.interactionsAlreadyPresent = f.interactionUser.count - summary.interactionsAdded

        let dismissals = Self.keyOrder(f.dismissUser.count) {
            (f.dismissUser[$0], f.dismissCandidate[$0], $0) < (f.dismissUser[$1], f.dismissCandidate[$1], $1)
        } same: {
            f.dismissUser[$0] == f.dismissUser[$1] && f.dismissCandidate[$0] == f.dismissCandidate[$1]
        }
        summary.dismissalsAdded = try await insertIgnoringDuplicates(
            conn, table: "dismissals", columns: ["user", "candidate", "reason", "created_at"], count: dismissals.count
        ) { rows, k in
            let e = dismissals[k]
            rows.int(f.dismissUser[e])
            rows.int(f.dismissCandidate[e])
            rows.int(Int64(p.dismissalReason[e].rawValue))
            rows.int(p.dismissalTime[e])
        }

        let wrote = summary.newUsers + summary.usersUpdated + summary.newPosts + summary.followsAdded
            + summary.blocksAdded + summary.interactionsAdded + summary.dismissalsAdded
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

    /// Row positions sorted by key, the first of each run of equal keys kept.
    static func keyOrder(_ count: Int, by less: (Int, Int) -> Bool, same: (Int, Int) -> Bool) -> [Int] {
        var order = Array(0..<count)
        order.sort(by: less)
        var unique: [Int] = []
        unique.reserveCapacity(count)
        for e in order where unique.last.map({ !same($0, e) }) ?? true { unique.append(e) }
        return unique
    }

    /// COPYs rows into `table` and returns how many were new. Into a table that may hold some of
    /// them already, rows go through a temporary table and `INSERT … ON CONFLICT DO NOTHING`,
    /// since COPY cannot skip them. `row` must not repeat a key.
    private func insertIgnoringDuplicates(
        _ conn: PostgresConnection, table: String, columns: [String], count: Int, row: (inout CopyRows, Int) -> Void
    ) async throws -> Int {
        guard count > 0 else { return 0 }
        let empty = try await conn.scalar("SELECT NOT EXISTS (SELECT 1 FROM \(unescaped: table))", as: Bool.self, logger: logger)
        if empty {
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
            case .dismiss(let u, let v, let reason, let t):
                try await logged(
                    #"INSERT INTO dismissals ("user", candidate, reason, created_at) VALUES (\#(u), \#(v), \#(Int16(reason.rawValue)), \#(t)) ON CONFLICT DO NOTHING"#,
                    .dismiss, u, v, reason.rawValue, t)
            case .undismiss(let u, let v, let t):
                try await logged(#"DELETE FROM dismissals WHERE "user" = \#(u) AND candidate = \#(v)"#, .undismiss, u, v, 0, t)
            case .impression(let u, let v, let surface, let t):
                try await logged(
                    #"INSERT INTO impressions ("user", candidate, surface, shown_at) VALUES (\#(u), \#(v), \#(surface), \#(t))"#,
                    .impression, u, v, 0, t)
            }
        }
    }
}
