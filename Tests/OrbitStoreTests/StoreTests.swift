import Foundation
import OrbitCore
import OrbitSynth
import Testing
@testable import OrbitStore

@Suite struct StoreRoundTripTests {
    static func generated(users: Int = 400, seed: UInt64 = 7) -> SyntheticNetwork {
        var cfg = SynthConfig()
        cfg.users = users
        cfg.seed = seed
        return Generator(config: cfg).generate()
    }

    /// Compares field by field and names the fields that differ (printing the arrays would be huge).
    static func expectEqual(_ a: Snapshot, _ b: Snapshot) {
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
        #expect(differ.isEmpty, "snapshots differ in \(differ)")
    }

    @Test func generatedNetworkRoundTripsThroughAFreshAndAReopenedStore() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let net = Self.generated()
        let paths = try net.writeCSV(to: dir.path + "/gen")
        let expected = Snapshot.build(net.columns())
        let dbPath = dir.path + "/s.sqlite"
        do {
            let store = try SQLiteStore(path: dbPath)
            _ = try await store.importFiles(
                paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(), progress: nil)
            let loaded = try await store.loadSnapshot()
            Self.expectEqual(loaded.snapshot, expected)
            #expect(loaded.catalog.users.externalID(of: 17) == "u17")
        }
        // Reopen: same contents, same indices.
        let reopened = try SQLiteStore(path: dbPath)
        let loaded = try await reopened.loadSnapshot()
        Self.expectEqual(loaded.snapshot, expected)
        for i in stride(from: 0, to: net.userCount, by: 37) {
            #expect(loaded.catalog.users.index(of: SyntheticNetwork.userID(Int32(i))) == Int32(i))
        }
    }

    @Test func idMapIsStableAcrossReopenAndNewUsersGetNewIndices() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let dbPath = dir.path + "/s.sqlite"
        do {
            let store = try SQLiteStore(path: dbPath)
            try await store.append([.follow(follower: "zoe", followee: "adam", at: 10), .follow(follower: "adam", followee: "max", at: 11)])
        }
        let store = try SQLiteStore(path: dbPath)
        try await store.append([.follow(follower: "bea", followee: "zoe", at: 12)])
        let c = try await store.loadSnapshot().catalog.users
        #expect(c.index(of: "zoe") == 0 && c.index(of: "adam") == 1 && c.index(of: "max") == 2 && c.index(of: "bea") == 3)
    }
}

@Suite struct EventTests {
    @Test func eventsAreAppliedLoggedAndIdempotent() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let v0 = try await store.currentVersion()
        try await store.append([
            .follow(follower: "a", followee: "b", at: 1), .follow(follower: "a", followee: "c", at: 2),
            .post(id: "p", author: "b", at: 3), .interaction(user: "a", post: "p", kind: .authorClick, at: 4),
            .block(user: "a", blocked: "d", at: 5), .setFlags(user: "c", flags: [.reported], at: 6),
        ])
        let v1 = try await store.append([.follow(follower: "a", followee: "b", at: 7)])  // already there: no change
        let v2 = try await store.append([.unfollow(follower: "a", followee: "c", at: 8)])
        #expect(v2 == v1 + 1)
        let changes = try await store.changes(since: v0, limit: 100)
        let ops = changes.map(\.operation)
        #expect(ops.filter { $0 == .follow }.count == 2)
        #expect(ops.last == .unfollow)
        #expect(ops.contains(.interaction) && ops.contains(.block) && ops.contains(.setFlags) && ops.contains(.post))
        #expect(try await store.changes(since: v1, limit: 100).count == 1)

        let loaded = try await store.loadSnapshot()
        let s = loaded.snapshot, ids = loaded.catalog.users
        let a = ids.index(of: "a")!, b = ids.index(of: "b")!, c = ids.index(of: "c")!, d = ids.index(of: "d")!
        #expect(s.follows(a, b) && !s.follows(a, c))
        #expect(s.hasBlocked(a, d))
        #expect(s.flags(of: c) == .reported)
        #expect(s.engagements(of: a).first?.signals == .authorClicked)
    }

    @Test func aBatchWithAnUnknownPostWritesNothing() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        await #expect(throws: StoreError.self) {
            try await store.append([
                .follow(follower: "a", followee: "b", at: 1), .interaction(user: "a", post: "nope", kind: .view, at: 2),
            ])
        }
        #expect(try await store.counts() == StoreCounts())
        // The in-memory id map was rolled back with the transaction: the next user gets index 0.
        try await store.append([.user(id: "z", createdAt: 1)])
        #expect(try await store.loadSnapshot().catalog.users.index(of: "z") == 0)
        await #expect(throws: StoreError.self) { try await store.append([.user(id: "y", createdAt: -1)]) }
    }
}

@Suite struct CrashTests {
    /// An import that fails on its very last line leaves the store exactly as it was.
    @Test func importFailingOnLastLineLeavesStoreUnchanged() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        _ = try await store.importOne(dir.file("follows.csv", "uid,fid,rank\nx,y,1\n"), .follows)
        let before = try await store.counts()
        var text = "uid,fid,rank\n"
        for i in 0..<5_000 { text += "a\(i),b\(i),1\n" }
        text += "a,b,notanumber\n"
        let f = dir.file("follows2.csv", text)
        await #expect(throws: ImportError.self) { try await store.importOne(f, .follows) }
        #expect(try await store.counts() == before)
        #expect(try await store.loadSnapshot().catalog.users.count == 2)
    }

    /// `orbit import` killed with SIGKILL while writing: after reopening, the store is as before.
    @Test func killedImportLeavesStoreUnchanged() async throws {
        let orbit = orbitExecutable()
        try #require(FileManager.default.isExecutableFile(atPath: orbit), "build the orbit executable first (swift build)")
        let dir = TempDir()
        defer { dir.remove() }
        let dbPath = dir.path + "/s.sqlite"
        do {
            let store = try SQLiteStore(path: dbPath)
            _ = try await store.importOne(dir.file("follows.csv", "uid,fid\nx,y\n"), .follows)
        }
        var text = ""
        text.reserveCapacity(12_000_000)
        for i in 0..<600_000 { text += "\(i) \(i % 9973 + 1_000_000)\n" }
        let big = dir.file("big.txt", text)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: orbit)
        p.arguments = ["import", "--store", dbPath, big]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait until the importer has started writing rows, then kill it mid-transaction.
        var seen = ""
        while !seen.contains("write"), p.isRunning {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        try #require(seen.contains("write"), "the importer never reached its write stage: \(seen)")
        try await Task.sleep(for: .milliseconds(150))
        let killedMidway = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(killedMidway, "the import finished before it could be killed; make the file bigger")

        let store = try SQLiteStore(path: dbPath)
        let counts = try await store.counts()
        #expect(counts.follows == 1 && counts.users == 2)
        let catalog = try await store.loadSnapshot().catalog
        #expect(catalog.users.count == 2)
    }
}
