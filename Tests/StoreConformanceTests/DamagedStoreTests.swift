import Foundation
@testable import OrbitPostgres
import OrbitStore
import PostgresNIO
import Testing
import TestThreads

/// A PostgreSQL store whose rows name users or posts the catalog lacks (written around Orbit, or
/// damaged) is refused with a clear error when the snapshot is read, instead of crashing the build.
@Suite(.testThreads) struct DamagedStoreTests {
    @Test(.enabled(if: Backend.postgresURL != nil || Backend.postgresRequired, Comment(rawValue: Backend.skipMessage)))
    func rowsNamingUnknownUsersAreRefusedWhenTheSnapshotIsRead() async throws {
        try await withStore(.postgres) { store, _ async throws in
            let store = try #require(store as? PostgresStore)
            try await store.append([.user(id: "a", createdAt: 1), .user(id: "b", createdAt: 1), .follow(follower: "a", followee: "b", at: 2)])
            _ = try await store.loadSnapshot()  // sound so far
            func damage(_ sql: String) async throws {
                try await store.transaction { conn in
                    _ = try await conn.query(PostgresQuery(unsafeSQL: sql), logger: store.logger)
                }
            }
            try await damage("INSERT INTO follows (follower, followee, created_at) VALUES (0, 7, 3)")
            await #expect { _ = try await store.loadSnapshot() } throws: { "\($0)".contains("follows.followee") && "\($0)".contains("damaged") }
            try await damage("DELETE FROM follows WHERE followee = 7")
            try await damage("INSERT INTO follows (follower, followee, created_at) VALUES (9, 0, 3)")
            await #expect { _ = try await store.loadSnapshot() } throws: { "\($0)".contains("follows rows name a user outside") }
            try await damage("DELETE FROM follows WHERE follower = 9")
            _ = try await store.loadSnapshot()  // sound again
        }
    }
}
