import Foundation
import OrbitCore
import OrbitStore
import OrbitSynth
import StoreTestSupport
import Testing
import TestThreads

@Suite(.testThreads) struct BadRowTests {
    /// Every reason a row can be bad, each reported with the line it is on; nothing is written.
    @Test(arguments: Backend.available)
    func everyBadRowReasonIsReportedWithItsLineAndNothingIsWritten(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let dir = fixture.dir
            let follows = dir.file("follows.csv", """
                uid,fid,rank
                a,b,1
                a,b
                ,c,2
                a,d,x
                a,e,3

                """)
            let badUTF8 = dir.file("edges.txt", bytes: Array("# comment\nx y\n".utf8) + [0x66, 0xFF, 0x20, 0x67, 0x0A])
            let posts = dir.file("posts.csv", "id,author,created_at\np1,a,100\np2,a,99999999999\n")
            let interactions = dir.file("interactions.csv", """
                uid,post,kind,ts
                b,p1,like,200
                b,p1,share,200
                b,p9,view,200
                b,p1,view,abc
                "b,p1,view,1
                """)
            let sources = [
                ImportSource(path: follows, format: .follows), ImportSource(path: badUTF8, format: .edges),
                ImportSource(path: posts, format: .posts), ImportSource(path: interactions, format: .interactions),
            ]
            await #expect {
                try await store.importFiles(sources, options: ImportOptions(), progress: nil)
            } throws: { error in
                guard case ImportError.badRows(let report) = error else { return false }
                let got = Set(report.badRows.map { "\(($0.file as NSString).lastPathComponent):\($0.line): \($0.problem.category)" })
                let want: Set<String> = [
                    "follows.csv:3: wrong column count", "follows.csv:4: empty id", "follows.csv:5: not a number",
                    "edges.txt:3: invalid UTF-8", "posts.csv:3: timestamp out of range",
                    "interactions.csv:3: unknown interaction kind", "interactions.csv:4: unknown post",
                    "interactions.csv:5: not a number", "interactions.csv:6: unterminated quote",
                ]
                #expect(got == want)
                #expect(report.badRowCount == 9)
                // The printed form is file:line: reason.
                #expect(report.badRows.contains { $0.description.hasSuffix("follows.csv:3: wrong column count: expected 3 (as the header), found 2") })
                return true
            }
            #expect(try await store.counts() == StoreCounts())
            #expect(try await store.loadSnapshot().catalog.users.count == 0)
        }
    }

    @Test(arguments: Backend.available)
    func skipBadRowsImportsTheGoodOnesAndCountsTheRest(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let f = fixture.dir.file("follows.csv", "uid,fid,rank\na,b,1\na,b,2,3\nc,c,1\nc,a,\n,x,1\n")
            let summary = try await store.importOne(f, .follows, skipBadRows: true)
            #expect(summary.followsAdded == 2)
            #expect(summary.report.selfFollowsDropped == 1)
            #expect(summary.report.badRowCount == 2)
            #expect(summary.report.badRowsByCategory == ["wrong column count": 1, "empty id": 1])
            #expect(try await store.counts().follows == 2)
        }
    }

    /// An import that fails on its very last line leaves the store exactly as it was.
    @Test(arguments: Backend.available)
    func importFailingOnLastLineLeavesStoreUnchanged(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            _ = try await store.importOne(fixture.dir.file("follows.csv", "uid,fid,rank\nx,y,1\n"), .follows)
            let before = try await store.counts()
            var text = "uid,fid,rank\n"
            for i in 0..<5_000 { text += "a\(i),b\(i),1\n" }
            text += "a,b,notanumber\n"
            let f = fixture.dir.file("follows2.csv", text)
            await #expect(throws: ImportError.self) { try await store.importOne(f, .follows) }
            #expect(try await store.counts() == before)
            #expect(try await store.loadSnapshot().catalog.users.count == 2)
            // The refused import's ids were not kept: the next new user takes index 2.
            try await store.append([.user(id: "next", createdAt: 1)])
            #expect(try await store.externalIDs(usersFrom: 2, postsFrom: 0).users == ["next"])
        }
    }

    @Test(arguments: Backend.available)
    func missingHeaderIsRefused(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let f = fixture.dir.file("follows.csv", "1,2,3\n4,5,6\n")
            await #expect(throws: ImportError.self) { try await store.importOne(f, .follows) }
            #expect(try await store.counts().follows == 0)
        }
    }
}

@Suite(.testThreads) struct ImportBehaviourTests {
    @Test(arguments: Backend.available)
    func snapEdgeListWithCommentsAndSelfLoops(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let f = fixture.dir.file("soc.txt", "# Directed graph\n# FromNodeId\tToNodeId\n0\t1\n0\t0\n1  0\n2\t1\t1700000000\n")
            let s = try await store.importOne(f, .edges)
            #expect(s.followsAdded == 3 && s.report.selfFollowsDropped == 1 && s.report.rowsRead == 4)
            let snap = try await store.loadSnapshot()
            let idx = { (id: String) in snap.catalog.users.index(of: id)! }
            #expect(snap.snapshot.follows(idx("0"), idx("1")) && snap.snapshot.follows(idx("1"), idx("0")))
            #expect(!snap.snapshot.follows(idx("0"), idx("0")))
        }
    }

    @Test(arguments: Backend.available)
    func ncfRatingFileImportsAsFollowsWithPrefix(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let f = fixture.dir.file("ml.rating", "0\t5\t4\t978300760\n0\t7\t3\t978300761\n1\t5\t5\t978300762\n")
            let s = try await store.importFiles(
                [ImportSource(path: f, format: .rating)], options: ImportOptions(followeePrefix: "item:"), progress: nil)
            #expect(s.followsAdded == 3 && s.newUsers == 4)
            let snap = try await store.loadSnapshot()
            #expect(snap.catalog.users.index(of: "item:5") != nil)
            #expect(snap.snapshot.followers.degree(snap.catalog.users.index(of: "item:5")!) == 2)
        }
    }

    @Test(arguments: Backend.available)
    func jsonLinesPostsAndInteractions(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let posts = fixture.dir.file(
                "posts.jsonl", #"{"id":"p1","author":"alice","created_at":100}"# + "\n" + #"{"id":2,"author":"bob","created_at":150}"# + "\n")
            let inter = fixture.dir.file(
                "interactions.jsonl",
                #"{"uid":"bob","post":"p1","kind":"comment","ts":200}"# + "\n" + #"{"uid":"bob","post":"p1","kind":"like","ts":true}"# + "\n" + "{oops\n")
            let s = try await store.importFiles(
                [ImportSource(path: posts, format: .posts), ImportSource(path: inter, format: .interactions)],
                options: ImportOptions(skipBadRows: true), progress: nil)
            #expect(s.newPosts == 2 && s.interactionsAdded == 1)
            #expect(s.report.badRowsByCategory == ["not a number": 1, "malformed JSON": 1])
            let snap = try await store.loadSnapshot()
            let bob = snap.catalog.users.index(of: "bob")!, alice = snap.catalog.users.index(of: "alice")!
            #expect(snap.snapshot.engagements(of: bob).map(\.author) == [alice])
            #expect(snap.snapshot.engagements(of: bob).first?.signals == .commented)
        }
    }

    /// The same files again add nothing and log no change; new rows on top of them are added.
    @Test(arguments: Backend.available)
    func reimportIsIdempotent(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            let net = generated(users: 300, seed: 3)
            let files = try sources(net, in: fixture.dir)
            let first = try await store.importFiles(files, options: ImportOptions(), progress: nil)
            let countsBefore = try await store.counts()
            let second = try await store.importFiles(files, options: ImportOptions(), progress: nil)
            #expect(first.followsAdded == net.follows.count && first.interactionsAdded > 0)
            #expect(second.followsAdded == 0 && second.newUsers == 0 && second.newPosts == 0 && second.interactionsAdded == 0)
            #expect(second.usersUpdated == 0 && second.followsAlreadyPresent == net.follows.count)
            #expect(second.interactionsAlreadyPresent == first.interactionsAdded + first.interactionsAlreadyPresent)
            #expect(try await store.counts() == countsBefore)

            let more = fixture.dir.file("follows-more.csv", "uid,fid\nu1,u2\nu1,u2\nnewcomer,u1\n")
            let third = try await store.importOne(more, .follows)
            let already = net.follows.contains { $0.follower == 1 && $0.followee == 2 }
            #expect(third.newUsers == 1 && third.followsAdded == (already ? 1 : 2))
            #expect(third.followsAlreadyPresent == (already ? 2 : 1))
            let changes = try await store.changes(since: countsBefore.version, limit: 10)
            #expect(changes.map(\.operation) == [.bulkImport] && changes[0].version == third.version)
        }
    }

    /// A users file updates users the store already has, and counts only real changes.
    @Test(arguments: Backend.available)
    func usersFileUpdatesKnownUsers(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            try await store.append([.follow(follower: "a", followee: "b", at: 5)])
            let users = fixture.dir.file("users.csv", "id,created_at,flags\na,5,inactive\nb,7,\nc,9,\n")
            let s = try await store.importOne(users, .users)
            #expect(s.newUsers == 1 && s.usersUpdated == 3)  // a and b updated, c new with its row
            let again = try await store.importOne(users, .users)
            #expect(again.usersUpdated == 0 && again.newUsers == 0)
            let snap = try await store.loadSnapshot()
            let ids = snap.catalog.users
            #expect(snap.snapshot.flags(of: ids.index(of: "a")!) == .inactive)
            #expect(snap.snapshot.userCreatedAt == [5, 7, 9])
        }
    }
}
