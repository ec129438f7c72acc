import Foundation
import OrbitCore
import OrbitStore
import StoreTestSupport
import Testing
import TestThreads

@Suite(.testThreads) struct EventTests {
    @Test(arguments: Backend.available)
    func eventsAreAppliedLoggedAndIdempotent(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let v0 = try await store.currentVersion()
            try await store.append([
                .follow(follower: "a", followee: "b", at: 1), .follow(follower: "a", followee: "c", at: 2),
                .post(id: "p", author: "b", at: 3), .interaction(user: "a", post: "p", kind: .authorClick, at: 4),
                .block(user: "a", blocked: "d", at: 5), .setFlags(user: "c", flags: [.reported], at: 6),
                .follow(follower: "a", followee: "a", at: 6),  // a self-follow is ignored
            ])
            let v1 = try await store.append([
                .follow(follower: "a", followee: "b", at: 7),  // already there: no change
                .setFlags(user: "c", flags: [.reported], at: 7), .interaction(user: "a", post: "p", kind: .authorClick, at: 4),
                .post(id: "p", author: "b", at: 3),
            ])
            let v2 = try await store.append([.unfollow(follower: "a", followee: "c", at: 8)])
            #expect(v2 == v1 + 1)
            let changes = try await store.changes(since: v0, limit: 100)
            #expect(changes.map(\.operation) == [
                .user, .user, .follow, .user, .follow, .post, .interaction, .user, .block, .setFlags, .unfollow,
            ])
            #expect(changes.last?.version == v2)
            let interaction = try #require(changes.first { $0.operation == .interaction })
            #expect(interaction.detail == Interaction.Kind.authorClick.rawValue && interaction.timestamp == 4)
            #expect(try await store.changes(since: v1, limit: 100).count == 1)

            let loaded = try await store.loadSnapshot()
            let s = loaded.snapshot, ids = loaded.catalog.users
            let a = ids.index(of: "a")!, b = ids.index(of: "b")!, c = ids.index(of: "c")!, d = ids.index(of: "d")!
            #expect(s.follows(a, b) && !s.follows(a, c) && !s.follows(a, a))
            #expect(s.hasBlocked(a, d))
            #expect(s.flags(of: c) == .reported)
            #expect(s.engagements(of: a).first?.signals == .authorClicked)
            #expect(s.version == v2)

            // Undoing what is not there changes nothing either.
            #expect(try await store.append([.unblock(user: "b", blocked: "d", at: 9)]) == v2)
            let v3 = try await store.append([.unblock(user: "a", blocked: "d", at: 9)])
            #expect(try await store.changes(since: v2, limit: 10).map(\.operation) == [.unblock])
            #expect(try await !store.loadSnapshot().snapshot.hasBlocked(a, d) && v3 == v2 + 1)
        }
    }

    @Test(arguments: Backend.available)
    func changesComeInVersionOrderFromAnyVersionWithALimit(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            var versions: [Int64] = []
            for i in 0..<6 {
                versions.append(try await store.append([.follow(follower: "u\(i)", followee: "hub", at: Int64(i))]))
            }
            let all = try await store.changes(since: 0, limit: 1000)
            #expect(all.map(\.version) == all.map(\.version).sorted() && Set(all.map(\.version)).count == all.count)
            #expect(all.last?.version == versions.last)
            let page = try await store.changes(since: versions[2], limit: 2)
            #expect(page.count == 2 && page.allSatisfy { $0.version > versions[2] } && page.last!.version <= versions[4])
            #expect(page.map(\.operation) == [.user, .follow])  // u3 is created, then follows
            #expect(try await store.changes(since: versions[5], limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func aBatchWithAnUnknownPostWritesNothing(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            await #expect {
                try await store.append([
                    .follow(follower: "a", followee: "b", at: 1), .interaction(user: "a", post: "nope", kind: .view, at: 2),
                ])
            } throws: { error in
                guard case StoreError.unknownPost("nope") = error else { return false }
                return true
            }
            #expect(try await store.counts() == StoreCounts())
            // The in-memory id map was rolled back with the transaction: the next user gets index 0.
            try await store.append([.user(id: "z", createdAt: 1)])
            #expect(try await store.loadSnapshot().catalog.users.index(of: "z") == 0)
            await #expect {
                try await store.append([.user(id: "y", createdAt: 2), .user(id: "w", createdAt: -1)])
            } throws: { error in
                guard case StoreError.timestampOutOfRange(-1) = error else { return false }
                return true
            }
            await #expect(throws: StoreError.self) { try await store.append([.follow(follower: "", followee: "z", at: 1)]) }
            #expect(try await store.counts().users == 1)
            #expect(try await store.externalIDs(usersFrom: 0, postsFrom: 0).users == ["z"])
        }
    }
}
