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
            c.userFlags = Array(repeating: [], count: c.userCount)
            c.userCreatedAt = Array(repeating: 0, count: c.userCount)
            try await self.forEachRow("SELECT idx, created_at, flags FROM users", conn) { (r: inout IntRow) in
                let i = Int(r.int())
                c.userCreatedAt[i] = r.int()
                c.userFlags[i] = UserFlags(rawValue: UInt8(truncatingIfNeeded: r.int()))
            }
            try await self.forEachRow(#"SELECT "user", blocked FROM blocks"#, conn) { (r: inout IntRow) in
                c.blockUser.append(r.int32())
                c.blockBlocked.append(r.int32())
            }
            c.postAuthor = Array(repeating: 0, count: catalog.posts.count)
            c.postCreatedAt = Array(repeating: 0, count: catalog.posts.count)
            try await self.forEachRow("SELECT idx, author, created_at FROM posts", conn) { (r: inout IntRow) in
                let i = Int(r.int())
                c.postAuthor[i] = r.int32()
                c.postCreatedAt[i] = r.int()
            }
            let follows = try await conn.scalar("SELECT COUNT(*) FROM follows", as: Int.self, logger: self.logger)
            c.followFollower.reserveCapacity(follows)
            c.followFollowee.reserveCapacity(follows)
            c.followCreatedAt.reserveCapacity(follows)
            try await self.forEachRow("SELECT follower, followee, created_at FROM follows", conn) { (r: inout IntRow) in
                c.followFollower.append(r.int32())
                c.followFollowee.append(r.int32())
                c.followCreatedAt.append(r.int())
            }
            let interactions = try await conn.scalar("SELECT COUNT(*) FROM interactions", as: Int.self, logger: self.logger)
            c.interactionUser.reserveCapacity(interactions)
            c.interactionPost.reserveCapacity(interactions)
            c.interactionKind.reserveCapacity(interactions)
            c.interactionTime.reserveCapacity(interactions)
            try await self.forEachRow(#"SELECT "user", post, kind, ts FROM interactions"#, conn) { (r: inout IntRow) in
                c.interactionUser.append(r.int32())
                c.interactionPost.append(r.int32())
                c.interactionKind.append(UInt8(truncatingIfNeeded: r.int()))
                c.interactionTime.append(r.int())
            }
            return (c, catalog)
        }
    }

    /// Streams the rows of `query` to `body` as they arrive, without buffering the result.
    func forEachRow(_ query: PostgresQuery, _ conn: PostgresConnection, _ body: (inout IntRow) throws -> Void) async throws {
        for try await row in try await conn.query(query, logger: logger) {
            var r = IntRow(row)
            try body(&r)
        }
    }
}

/// A row of integer columns read left to right, straight from the binary wire format: the
/// generic `decode` checks types per cell, which dominates a snapshot load of millions of rows.
struct IntRow {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    /// The next column as a 64-bit integer, whatever its width (int2, int4 or int8); NULL reads as 0.
    mutating func int() -> Int64 {
        guard let b = cells.next()?.bytes else { return 0 }
        switch b.readableBytes {
        case 2: return Int64(b.getInteger(at: b.readerIndex, as: Int16.self)!)
        case 4: return Int64(b.getInteger(at: b.readerIndex, as: Int32.self)!)
        default: return b.getInteger(at: b.readerIndex, as: Int64.self) ?? 0
        }
    }

    mutating func int32() -> Int32 { Int32(truncatingIfNeeded: int()) }
}
