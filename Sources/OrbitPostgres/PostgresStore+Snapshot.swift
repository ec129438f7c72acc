import Logging
import OrbitCore
import OrbitStore
import PostgresNIO
import Synchronization

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
            (c.blockUser, c.blockBlocked) = try await self.readBlocks(conn)
            (c.followFollower, c.followFollowee, c.followCreatedAt) = try await self.readFollows(conn)
            (c.interactionUser, c.interactionPost, c.interactionKind, c.interactionTime) = try await self.readInteractions(conn)
            return (c, catalog)
        }
    }

    /// Streams the rows of `query` into `state` as they arrive: `body` runs on the connection's
    /// event loop, without the task switch per row of `for try await`, which made reads of
    /// millions of rows several times slower.
    private func stream<State: Sendable>(
        _ query: PostgresQuery, _ conn: PostgresConnection, into state: State,
        _ body: @escaping @Sendable (inout State, inout IntRow) -> Void
    ) async throws -> State {
        let box = Box(state)
        _ = try await conn.query(query, logger: logger) { row in
            var r = IntRow(row)
            box.value.withLock { body(&$0, &r) }
        }.get()
        return box.value.withLock { $0 }
    }

    private func readUsers(count: Int, _ conn: PostgresConnection) async throws -> ([Timestamp], [UserFlags]) {
        let empty = ([Timestamp](repeating: 0, count: count), [UserFlags](repeating: [], count: count))
        return try await stream("SELECT idx, created_at, flags FROM users", conn, into: empty) { s, r in
            let i = Int(r.int())
            s.0[i] = r.int()
            s.1[i] = UserFlags(rawValue: UInt8(truncatingIfNeeded: r.int()))
        }
    }

    private func readPosts(count: Int, _ conn: PostgresConnection) async throws -> ([UserIndex], [Timestamp]) {
        let empty = ([UserIndex](repeating: 0, count: count), [Timestamp](repeating: 0, count: count))
        return try await stream("SELECT idx, author, created_at FROM posts", conn, into: empty) { s, r in
            let i = Int(r.int())
            s.0[i] = r.int32()
            s.1[i] = r.int()
        }
    }

    private func readBlocks(_ conn: PostgresConnection) async throws -> ([UserIndex], [UserIndex]) {
        try await stream(#"SELECT "user", blocked FROM blocks"#, conn, into: ([UserIndex](), [UserIndex]())) { s, r in
            s.0.append(r.int32())
            s.1.append(r.int32())
        }
    }

    private func readFollows(_ conn: PostgresConnection) async throws -> ([UserIndex], [UserIndex], [Timestamp]) {
        let n = try await conn.scalar("SELECT COUNT(*) FROM follows", as: Int.self, logger: logger)
        var empty = ([UserIndex](), [UserIndex](), [Timestamp]())
        empty.0.reserveCapacity(n)
        empty.1.reserveCapacity(n)
        empty.2.reserveCapacity(n)
        return try await stream("SELECT follower, followee, created_at FROM follows", conn, into: empty) { s, r in
            s.0.append(r.int32())
            s.1.append(r.int32())
            s.2.append(r.int())
        }
    }

    private func readInteractions(_ conn: PostgresConnection) async throws -> ([UserIndex], [PostIndex], [UInt8], [Timestamp]) {
        let n = try await conn.scalar("SELECT COUNT(*) FROM interactions", as: Int.self, logger: logger)
        var empty = ([UserIndex](), [PostIndex](), [UInt8](), [Timestamp]())
        empty.0.reserveCapacity(n)
        empty.1.reserveCapacity(n)
        empty.2.reserveCapacity(n)
        empty.3.reserveCapacity(n)
        return try await stream(#"SELECT "user", post, kind, ts FROM interactions"#, conn, into: empty) { s, r in
            s.0.append(r.int32())
            s.1.append(r.int32())
            s.2.append(UInt8(truncatingIfNeeded: r.int()))
            s.3.append(r.int())
        }
    }
}

/// A value shared with the event loop that fills it.
private final class Box<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
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
