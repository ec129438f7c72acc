import Logging
import OrbitCore
import OrbitStore
import PostgresNIO

extension PostgresStore {
    public func loadSnapshot() async throws -> LoadedSnapshot {
        let (columns, catalog) = try await loadColumns()
        return LoadedSnapshot(snapshot: Snapshot.build(columns), catalog: catalog)
    }

    /// Reads every table into snapshot columns inside one REPEATABLE READ transaction, so the
    /// columns, the catalog and the version are one committed state.
    public func loadColumns() async throws -> (Snapshot.Columns, Catalog) {
        try await transaction(.repeatableReadOnly) { conn in
            var c = Snapshot.Columns()
            c.version = try await self.version(conn)
            let catalog = try await self.catalog(conn)
            c.userCount = catalog.users.count
            (c.userCreatedAt, c.userFlags) = try await self.readUsers(count: c.userCount, conn)
            (c.postAuthor, c.postCreatedAt) = try await self.readPosts(count: catalog.posts.count, conn)
            (c.blockUser, c.blockBlocked) = try await self.readBlocks(users: c.userCount, conn)
            try await self.readFeedback(into: &c, conn)
            (c.followFollower, c.followFollowee, c.followCreatedAt) = try await self.readFollows(users: c.userCount, conn)
            (c.interactionUser, c.interactionPost, c.interactionKind, c.interactionTime) =
                try await self.readInteractions(users: c.userCount, conn)
            try Self.checkIndices(c.followFollowee, below: c.userCount, "follows.followee")
            try Self.checkIndices(c.blockBlocked, below: c.userCount, "blocks.blocked")
            for (column, values) in [("dismissals.user", c.dismissUser), ("dismissals.candidate", c.dismissCandidate),
                                     ("impressions.user", c.impressionUser), ("impressions.candidate", c.impressionCandidate)] {
                try Self.checkIndices(values, below: c.userCount, column)
            }
            try Self.checkIndices(c.interactionPost, below: catalog.posts.count, "interactions.post")
            return (c, catalog)
        }
    }

    /// Reads a table in ranges of its leading key (the first column of its primary key), each
    /// range answered as one row of arrays (`array_agg` of every column, in the same row order).
    /// A row per range instead of a row per record: PostgresNIO's per-row work was most of a
    /// snapshot load (about 400k rows/s, the server idle), while a binary array is a flat run of
    /// integers. Ranges hold about `Configuration.snapshotRowsPerRange` records, so memory stays bounded.
    private func readRanges(
        table: String, key: String, columns: [String], keys: Int, rows: Int,
        _ conn: PostgresConnection, _ body: (inout ArrayCells) throws -> Void
    ) async throws {
        guard keys > 0, rows > 0 else { return }
        let rowsPerRange = max(1, configuration.snapshotRowsPerRange)
        let span = max(1, Int((Double(keys) * Double(rowsPerRange) / Double(rows)).rounded(.up)))
        let select = columns.map { "array_agg(\($0))" }.joined(separator: ", ")
        var lo = 0
        while lo < keys {
            let hi = lo + span
            var query = PostgresQuery(unsafeSQL: "SELECT \(select) FROM \(table) WHERE \(key) >= $1 AND \(key) < $2")
            try query.binds.append(Int32(clamping: lo), context: .default)
            try query.binds.append(Int32(clamping: hi), context: .default)
            for try await row in try await conn.query(query, logger: logger) {
                var arrays = ArrayCells(row)
                try body(&arrays)
            }
            lo = hi
        }
    }

    private func readUsers(count: Int, _ conn: PostgresConnection) async throws -> ([Timestamp], [UserFlags]) {
        var created = [Timestamp](repeating: 0, count: count), flags = [UserFlags](repeating: [], count: count)
        try await readRanges(table: "users", key: "idx", columns: ["idx", "created_at", "flags"], keys: count, rows: count, conn) { a in
            let (idx, t, f): ([Int32], [Int64], [Int16]) = (try a.next(), try a.next(), try a.next())
            for (k, i) in idx.enumerated() where i >= 0 && Int(i) < count {
                created[Int(i)] = t[k]
                flags[Int(i)] = UserFlags(rawValue: UInt8(truncatingIfNeeded: f[k]))
            }
        }
        return (created, flags)
    }

    private func readPosts(count: Int, _ conn: PostgresConnection) async throws -> ([UserIndex], [Timestamp]) {
        var author = [UserIndex](repeating: 0, count: count), created = [Timestamp](repeating: 0, count: count)
        try await readRanges(table: "posts", key: "idx", columns: ["idx", "author", "created_at"], keys: count, rows: count, conn) { a in
            let (idx, au, t): ([Int32], [Int32], [Int64]) = (try a.next(), try a.next(), try a.next())
            for (k, i) in idx.enumerated() where i >= 0 && Int(i) < count {
                author[Int(i)] = au[k]
                created[Int(i)] = t[k]
            }
        }
        return (author, created)
    }

    /// The ranges cover users `0 ..< users`: a row outside them names a user the catalog lacks.
    private static func checkAllRead(_ read: Int, of rows: Int, _ table: String, users: Int) throws {
        guard read == rows else {
            throw SnapshotReadError("\(rows - read) of \(rows) \(table) rows name a user outside the \(users) users table; the store is damaged")
        }
    }

    /// Every index the snapshot will use as a position must exist: a damaged row would otherwise
    /// index past the end of an array while the snapshot is built.
    private static func checkIndices(_ values: [Int32], below count: Int, _ column: String) throws {
        if let bad = values.first(where: { $0 < 0 || Int($0) >= count }) {
            throw SnapshotReadError("\(column) holds \(bad), outside 0..<\(count); the store is damaged")
        }
    }

    private func rowCount(_ table: String, _ conn: PostgresConnection) async throws -> Int {
        try await conn.scalar(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), as: Int.self, logger: logger)
    }

    private func readBlocks(users: Int, _ conn: PostgresConnection) async throws -> ([UserIndex], [UserIndex]) {
        var user: [UserIndex] = [], blocked: [UserIndex] = []
        let n = try await rowCount("blocks", conn)
        try await readRanges(table: "blocks", key: #""user""#, columns: [#""user""#, "blocked"], keys: users, rows: n, conn) { a in
            user += try a.next() as [Int32]
            blocked += try a.next() as [Int32]
        }
        try Self.checkAllRead(user.count, of: n, "blocks", users: users)
        return (user, blocked)
    }

    /// Dismissals, and the impressions recent enough to discount (`ImpressionHistory.maxAge`), each
    /// table in one row of arrays: both are small next to the follow graph.
    private func readFeedback(into c: inout Snapshot.Columns, _ conn: PostgresConnection) async throws {
        for try await row in try await conn.query(#"SELECT array_agg("user"), array_agg(candidate) FROM dismissals"#, logger: logger) {
            var a = ArrayCells(row)
            c.dismissUser = try a.next()
            c.dismissCandidate = try a.next()
        }
        let query: PostgresQuery = """
            SELECT array_agg("user"), array_agg(candidate), array_agg(shown_at) FROM impressions
            WHERE shown_at >= (SELECT COALESCE(MAX(shown_at), 0) FROM impressions) - \(ImpressionHistory.maxAge)
            """
        for try await row in try await conn.query(query, logger: logger) {
            var a = ArrayCells(row)
            c.impressionUser = try a.next()
            c.impressionCandidate = try a.next()
            c.impressionTime = try a.next()
        }
    }

    private func readFollows(users: Int, _ conn: PostgresConnection) async throws -> ([UserIndex], [UserIndex], [Timestamp]) {
        let n = try await rowCount("follows", conn)
        var follower: [UserIndex] = [], followee: [UserIndex] = [], created: [Timestamp] = []
        follower.reserveCapacity(n)
        followee.reserveCapacity(n)
        created.reserveCapacity(n)
        try await readRanges(
            table: "follows", key: "follower", columns: ["follower", "followee", "created_at"], keys: users, rows: n, conn
        ) { a in
            try a.append(to: &follower)
            try a.append(to: &followee)
            try a.append(to: &created)
        }
        try Self.checkAllRead(follower.count, of: n, "follows", users: users)
        return (follower, followee, created)
    }

    private func readInteractions(users: Int, _ conn: PostgresConnection) async throws -> ([UserIndex], [PostIndex], [UInt8], [Timestamp]) {
        let n = try await rowCount("interactions", conn)
        var user: [UserIndex] = [], post: [PostIndex] = [], kind: [UInt8] = [], time: [Timestamp] = []
        user.reserveCapacity(n)
        post.reserveCapacity(n)
        kind.reserveCapacity(n)
        time.reserveCapacity(n)
        try await readRanges(
            table: "interactions", key: #""user""#, columns: [#""user""#, "post", "kind", "ts"], keys: users, rows: n, conn
        ) { a in
            try a.append(to: &user)
            try a.append(to: &post)
            kind += (try a.next() as [Int16]).map { UInt8(truncatingIfNeeded: $0) }
            try a.append(to: &time)
        }
        try Self.checkAllRead(user.count, of: n, "interactions", users: users)
        return (user, post, kind, time)
    }
}

/// The cells of one row, each a one-dimensional binary array (PostgreSQL's `array_send` layout)
/// of integers (int2, int4, int8) or text, read left to right; a NULL cell (`array_agg` over no
/// rows) is empty.
struct ArrayCells {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    /// The next cell's elements.
    mutating func next<T: FixedWidthInteger>() throws -> [T] {
        var out: [T] = []
        try append(to: &out)
        return out
    }

    /// Appends the next cell's elements to `out`, converted to `T`; refuses NULL elements and
    /// anything that is not a one-dimensional integer array.
    mutating func append<T: FixedWidthInteger>(to out: inout [T]) throws {
        try elements { bytes in
            switch bytes.count {
            case 2: out.append(T(truncatingIfNeeded: Int16(bigEndian: bytes.loadUnaligned(as: Int16.self))))
            case 4: out.append(T(truncatingIfNeeded: Int32(bigEndian: bytes.loadUnaligned(as: Int32.self))))
            case 8: out.append(T(truncatingIfNeeded: Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))))
            default: throw SnapshotReadError("array element of \(bytes.count) bytes is not an integer")
            }
        }
    }

    /// The next cell's elements as text (UTF-8, as the server sends text in binary format).
    mutating func strings() throws -> [String] {
        var out: [String] = []
        try elements { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// Calls `body` with the bytes of each element of the next cell, in order.
    private mutating func elements(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let cell = cells.next() else { throw SnapshotReadError("a row has fewer array columns than asked for") }
        guard var b = cell.bytes else { return }
        guard let dims = b.readInteger(as: Int32.self), b.readInteger(as: Int32.self) != nil, b.readInteger(as: UInt32.self) != nil
        else { throw SnapshotReadError("array header is truncated") }
        if dims == 0 { return }
        guard dims == 1, let count = b.readInteger(as: Int32.self), count >= 0, b.readInteger(as: Int32.self) != nil else {
            throw SnapshotReadError("expected a one-dimensional array, got \(dims) dimensions")
        }
        try b.withUnsafeReadableBytes { raw in
            var at = 0
            for _ in 0..<Int(count) {
                guard at + 4 <= raw.count else { throw SnapshotReadError("array is truncated") }
                let width = Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                at += 4
                guard width >= 0 else { throw SnapshotReadError("array holds a NULL") }
                guard at + width <= raw.count else { throw SnapshotReadError("array is truncated") }
                try body(UnsafeRawBufferPointer(rebasing: raw[at..<(at + width)]))
                at += width
            }
        }
    }
}

/// A snapshot read met data it cannot use (a schema this build does not know).
struct SnapshotReadError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String) { description = "reading the snapshot from PostgreSQL: \(what)" }
}
