import Foundation
import OrbitCore
import OrbitSynth
import Testing
@testable import OrbitStore

@Suite struct BadRowTests {
    /// Every reason a row can be bad, each reported with the line it is on.
    @Test func everyBadRowReasonIsReportedWithItsLine() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
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
        // Nothing was written: the import is all or nothing.
        let counts = try await store.counts()
        #expect(counts.users == 0 && counts.follows == 0 && counts.posts == 0 && counts.interactions == 0)
    }

    @Test func skipBadRowsImportsTheGoodOnesAndCountsTheRest() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let f = dir.file("follows.csv", "uid,fid,rank\na,b,1\na,b,2,3\nc,c,1\nc,a,\n,x,1\n")
        let summary = try await store.importOne(f, .follows, skipBadRows: true)
        #expect(summary.followsAdded == 2)
        #expect(summary.report.selfFollowsDropped == 1)
        #expect(summary.report.badRowCount == 2)
        #expect(summary.report.badRowsByCategory == ["wrong column count": 1, "empty id": 1])
        #expect(try await store.counts().follows == 2)
    }

    @Test func missingHeaderIsRefused() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let f = dir.file("follows.csv", "1,2,3\n4,5,6\n")
        await #expect(throws: ImportError.self) { try await store.importOne(f, .follows) }
        #expect(try await store.counts().follows == 0)
    }

    @Test func damagedGzipIsRefusedWithItsName() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        var lines = ""
        for i in 0..<20_000 { lines += "\(i) \(i + 1)\n" }
        let plain = dir.file("g.txt", lines)
        #expect(try run("/bin/gzip", ["-k", plain]) == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        let truncated = dir.file("cut.txt.gz", bytes: Array(data.prefix(data.count / 2)))
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        // The whole gzip file reads like the plain one.
        let s = try await store.importOne(plain + ".gz", .edges)
        #expect(s.followsAdded == 20_000)
        let other = try SQLiteStore(path: dir.path + "/t.sqlite")
        await #expect {
            try await other.importOne(truncated, .edges)
        } throws: { error in
            guard case ImportError.file(let e) = error else { return false }
            return e.description.contains("cut.txt.gz") && e.description.contains("damaged")
        }
        #expect(try await other.counts().follows == 0)
    }
}

@Suite struct ImportBehaviourTests {
    @Test func snapEdgeListWithCommentsAndSelfLoops() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let f = dir.file("soc.txt", "# Directed graph\n# FromNodeId\tToNodeId\n0\t1\n0\t0\n1  0\n2\t1\t1700000000\n")
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let s = try await store.importOne(f, .edges)
        #expect(s.followsAdded == 3 && s.report.selfFollowsDropped == 1 && s.report.rowsRead == 4)
        let snap = try await store.loadSnapshot()
        let idx = { (id: String) in snap.catalog.users.index(of: id)! }
        #expect(snap.snapshot.follows(idx("0"), idx("1")) && snap.snapshot.follows(idx("1"), idx("0")))
        #expect(!snap.snapshot.follows(idx("0"), idx("0")))
    }

    @Test func ncfRatingFileImportsAsFollowsWithPrefix() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let f = dir.file("ml.rating", "0\t5\t4\t978300760\n0\t7\t3\t978300761\n1\t5\t5\t978300762\n")
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let s = try await store.importFiles(
            [ImportSource(path: f, format: .rating)], options: ImportOptions(followeePrefix: "item:"), progress: nil)
        #expect(s.followsAdded == 3 && s.newUsers == 4)
        let snap = try await store.loadSnapshot()
        #expect(snap.catalog.users.index(of: "item:5") != nil)
        #expect(snap.snapshot.followers.degree(snap.catalog.users.index(of: "item:5")!) == 2)
    }

    @Test func jsonLinesPostsAndInteractions() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let posts = dir.file("posts.jsonl", #"{"id":"p1","author":"alice","created_at":100}"# + "\n" + #"{"id":2,"author":"bob","created_at":150}"# + "\n")
        let inter = dir.file("interactions.jsonl", #"{"uid":"bob","post":"p1","kind":"comment","ts":200}"# + "\n" + #"{"uid":"bob","post":"p1","kind":"like","ts":true}"# + "\n" + "{oops\n")
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
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

    @Test func reimportIsIdempotent() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        var cfg = SynthConfig()
        cfg.users = 300
        let net = Generator(config: cfg).generate()
        let paths = try net.writeCSV(to: dir.path + "/gen")
        let sources = paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        let first = try await store.importFiles(sources, options: ImportOptions(), progress: nil)
        let countsBefore = try await store.counts()
        let second = try await store.importFiles(sources, options: ImportOptions(), progress: nil)
        let countsAfter = try await store.counts()
        #expect(first.followsAdded == net.follows.count)
        #expect(second.followsAdded == 0 && second.newUsers == 0 && second.newPosts == 0 && second.interactionsAdded == 0)
        #expect(second.followsAlreadyPresent == net.follows.count)
        #expect(countsBefore == countsAfter)
    }

    @Test func formatDetectionFromNames() {
        #expect(ImportFormat.detect(path: "/x/follows.csv") == .follows)
        #expect(ImportFormat.detect(path: "soc-Slashdot0902.txt.gz") == .edges)
        #expect(ImportFormat.detect(path: "ml-1m.train.rating") == .rating)
        #expect(ImportFormat.detect(path: "interactions.jsonl") == .interactions)
        #expect(ImportFormat.detect(path: "data.bin") == nil)
        #expect(ImportSource(path: "posts.jsonl.gz", format: .posts).jsonLines)
    }
}
