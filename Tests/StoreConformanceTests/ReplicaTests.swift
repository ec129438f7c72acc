import Foundation
import OrbitCore
import OrbitStore
import StoreTestSupport
import Testing
import TestThreads

/// Two store instances on one database, as two server replicas (or processes) would hold.
@Suite(.testThreads) struct ReplicaTests {
    @Test(arguments: Backend.available)
    func writesThroughOneReplicaAreSeenByTheOther(_ backend: Backend) async throws {
        try await withStore(backend) { one, fixture async throws in
            let two = try await fixture.open()
            // Each replica caches its id map; alternating new users must never collide on an index.
            for i in 0..<5 {
                try await one.append([.follow(follower: "one\(i)", followee: "hub", at: Int64(i))])
                try await two.append([.follow(follower: "two\(i)", followee: "hub", at: Int64(i))])
            }
            let v = try await two.append([.post(id: "p", author: "two0", at: 9)])
            try await one.append([.interaction(user: "one0", post: "p", kind: .like, at: 10)])  // a post made by the other

            let seenByOne = try await one.changes(since: 0, limit: 1000)
            let seenByTwo = try await two.changes(since: 0, limit: 1000)
            #expect(seenByOne == seenByTwo && seenByOne.count == 1 + 2 * 10 + 1 + 1)
            #expect(seenByOne.map(\.version) == seenByOne.map(\.version).sorted())
            #expect(try await one.changes(since: v - 1, limit: 10).first?.operation == .post)

            let ids = try await one.externalIDs(usersFrom: 0, postsFrom: 0).users
            #expect(ids.count == 11 && Set(ids).count == 11)
            #expect(ids.prefix(4) == ["one0", "hub", "two0", "one1"])
            let a = try await one.loadSnapshot(), b = try await two.loadSnapshot()
            expectEqual(a.snapshot, b.snapshot)
            #expect(a.catalog.users.externalIDs == b.catalog.users.externalIDs)
            #expect(a.snapshot.followers.degree(a.catalog.users.index(of: "hub")!) == 10)
            #expect(a.snapshot.engagements(of: a.catalog.users.index(of: "one0")!).count == 1)
        }
    }

    /// An import on one replica starts from the ids the other added since its catalog was cached.
    @Test(arguments: Backend.available)
    func importsAndAppendsInterleaveAcrossReplicas(_ backend: Backend) async throws {
        try await withStore(backend) { one, fixture async throws in
            let two = try await fixture.open()
            try await one.append([.user(id: "a", createdAt: 1)])
            _ = try await two.importOne(fixture.dir.file("f1.csv", "uid,fid\nb,a\nc,a\n"), .follows)
            try await one.append([.follow(follower: "d", followee: "b", at: 2)])
            _ = try await two.importOne(fixture.dir.file("f2.csv", "uid,fid\ne,d\nd,a\n"), .follows)
            #expect(try await one.externalIDs(usersFrom: 0, postsFrom: 0).users == ["a", "b", "c", "d", "e"])
            let snap = try await one.loadSnapshot()
            let u = snap.catalog.users
            #expect(snap.snapshot.followees.degree(u.index(of: "d")!) == 2)
            #expect(try await one.counts().follows == 5)
        }
    }

    /// Writers racing from two replicas are serialised: every change is logged once, in order.
    @Test(arguments: Backend.available)
    func concurrentWritersFromTwoReplicasLoseNothing(_ backend: Backend) async throws {
        try await withStore(backend) { one, fixture async throws in
            let two = try await fixture.open()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, store) in [("x", one), ("y", two)] {
                    group.addTask {
                        for i in 0..<15 { try await store.append([.follow(follower: "\(name)\(i)", followee: "shared\(i % 3)", at: 1)]) }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await one.counts()
            #expect(counts.users == 33 && counts.follows == 30)
            let changes = try await two.changes(since: 0, limit: 1000)
            #expect(changes.count == 63 && changes.filter { $0.operation == .follow }.count == 30)
            // Each user's change names the index its id got.
            let ids = try await two.externalIDs(usersFrom: 0, postsFrom: 0).users
            #expect(Set(changes.filter { $0.operation == .user }.map(\.a)) == Set(0..<Int32(ids.count)))
        }
    }
}
