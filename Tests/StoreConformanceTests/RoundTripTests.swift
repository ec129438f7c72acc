import Foundation
import OrbitCore
import OrbitStore
import OrbitSynth
import StoreTestSupport
import Testing
import TestThreads

/// Compares field by field and names the fields that differ (printing the arrays would be huge).
func expectEqual(_ a: Snapshot, _ b: Snapshot, sourceLocation: SourceLocation = #_sourceLocation) {
    var differ: [String] = []
    func check(_ name: String, _ same: Bool) { if !same { differ.append(name) } }
    check("counts", a.userCount == b.userCount && a.postCount == b.postCount)
    check("followees", a.followees == b.followees)
    check("followers", a.followers == b.followers)
    check("followedAt", a.followedAt == b.followedAt)
    check("blocks", a.blocks == b.blocks)
    check("userFlags", a.userFlags == b.userFlags)
    check("userCreatedAt", a.userCreatedAt == b.userCreatedAt)
    check("posts", a.postAuthor == b.postAuthor && a.postCreatedAt == b.postCreatedAt)
    check("postKindCounts", a.postKindCounts == b.postKindCounts)
    check("engagement", a.engagementOffsets == b.engagementOffsets && a.engagement == b.engagement)
    check("seenPosts", a.seenPosts == b.seenPosts)
    #expect(differ.isEmpty, "snapshots differ in \(differ)", sourceLocation: sourceLocation)
}

func generated(users: Int = 400, seed: UInt64 = 7) -> SyntheticNetwork {
    var cfg = SynthConfig()
    cfg.users = users
    cfg.seed = seed
    return Generator(config: cfg).generate()
}

/// The generated network's files, posts before the interactions that name them.
func sources(_ net: SyntheticNetwork, in dir: TempDir) throws -> [ImportSource] {
    try net.writeCSV(to: dir.path + "/gen").map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }
}

@Suite(.testThreads) struct RoundTripTests {
    @Test(arguments: Backend.available)
    func generatedNetworkRoundTripsThroughAFreshAndAReopenedStore(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let net = generated()
            let expected = Snapshot.build(net.columns())
            let summary = try await store.importFiles(try sources(net, in: fixture.dir), options: ImportOptions(), progress: nil)
            #expect(summary.followsAdded == net.follows.count && summary.newUsers == net.userCount)
            let loaded = try await store.loadSnapshot()
            expectEqual(loaded.snapshot, expected)
            #expect(loaded.catalog.users.externalID(of: 17) == "u17")
            #expect(loaded.snapshot.version == summary.version && summary.version > 0)

            // Reopen: same contents, same indices.
            let reopened = try await fixture.open()
            let again = try await reopened.loadSnapshot()
            expectEqual(again.snapshot, expected)
            for i in stride(from: 0, to: net.userCount, by: 37) {
                #expect(again.catalog.users.index(of: SyntheticNetwork.userID(Int32(i))) == Int32(i))
            }
        }
    }

    @Test(arguments: Backend.available)
    func idMapIsStableAcrossReopenAndNewUsersGetNewIndices(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            try await store.append([.follow(follower: "zoe", followee: "adam", at: 10), .follow(follower: "adam", followee: "max", at: 11)])
            let reopened = try await fixture.open()
            try await reopened.append([.follow(follower: "bea", followee: "zoe", at: 12)])
            let c = try await reopened.loadSnapshot().catalog.users
            #expect(c.index(of: "zoe") == 0 && c.index(of: "adam") == 1 && c.index(of: "max") == 2 && c.index(of: "bea") == 3)
        }
    }

    @Test(arguments: Backend.available)
    func countsFollowTheWrites(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            #expect(try await store.counts() == StoreCounts())
            let v = try await store.append([
                .follow(follower: "a", followee: "b", at: 1), .follow(follower: "b", followee: "a", at: 1),
                .block(user: "c", blocked: "a", at: 2), .post(id: "p", author: "a", at: 3), .post(id: "q", author: "b", at: 3),
                .interaction(user: "c", post: "p", kind: .like, at: 4), .interaction(user: "c", post: "p", kind: .view, at: 4),
            ])
            var want = StoreCounts()
            (want.users, want.follows, want.blocks, want.posts, want.interactions, want.version) = (3, 2, 1, 2, 2, v)
            #expect(try await store.counts() == want)
            #expect(try await store.currentVersion() == v)
        }
    }

    @Test(arguments: Backend.available)
    func externalIDsListTheUsersAndPostsFromAnIndexOn(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            let none = try await store.externalIDs(usersFrom: 0, postsFrom: 0)
            #expect(none.users.isEmpty && none.posts.isEmpty)
            try await store.append([
                .user(id: "u0", createdAt: 1), .user(id: "u1", createdAt: 1), .post(id: "p0", author: "u0", at: 2),
                .follow(follower: "u2", followee: "u3", at: 3), .post(id: "p1", author: "u4", at: 4),
            ])
            let all = try await store.externalIDs(usersFrom: 0, postsFrom: 0)
            #expect(all.users == ["u0", "u1", "u2", "u3", "u4"] && all.posts == ["p0", "p1"])
            let tail = try await store.externalIDs(usersFrom: 3, postsFrom: 1)
            #expect(tail.users == ["u3", "u4"] && tail.posts == ["p1"])
            let past = try await store.externalIDs(usersFrom: 5, postsFrom: 9)
            #expect(past.users.isEmpty && past.posts.isEmpty)
        }
    }

    /// Ids with the characters a bulk format could trip on come back exactly.
    @Test(arguments: Backend.available)
    func oddCharactersInIDsSurviveImportAndEvents(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let f = fixture.dir.file("follows.csv", "uid,fid\n\"tab\there\",back\\slash\n\"quo\"\"te\",ünïcödé 🚀\n\\N,x\n")
            let s = try await store.importOne(f, .follows)
            #expect(s.followsAdded == 3)
            try await store.append([.follow(follower: "cr\rlf\n", followee: "tab\there", at: 5)])
            let users = try await store.loadSnapshot().catalog.users
            #expect(users.externalIDs == ["tab\there", "back\\slash", "quo\"te", "ünïcödé 🚀", "\\N", "x", "cr\rlf\n"])
        }
    }
}
