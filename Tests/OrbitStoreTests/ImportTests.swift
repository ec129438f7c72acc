import Foundation
import OrbitCore
import StoreTestSupport
import Testing
@testable import OrbitStore
import TestThreads

// Reading files; what a store does with the rows is tested in StoreConformanceTests.

@Suite(.testThreads) struct FileTests {
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

    @Test func formatDetectionFromNames() {
        #expect(ImportFormat.detect(path: "/x/follows.csv") == .follows)
        #expect(ImportFormat.detect(path: "soc-Slashdot0902.txt.gz") == .edges)
        #expect(ImportFormat.detect(path: "ml-1m.train.rating") == .rating)
        #expect(ImportFormat.detect(path: "interactions.jsonl") == .interactions)
        #expect(ImportFormat.detect(path: "data.bin") == nil)
        #expect(ImportSource(path: "posts.jsonl.gz", format: .posts).jsonLines)
    }
}

@Suite(.testThreads) struct FormatSniffingTests {
    @Test func aFileWhoseNameDoesNotTellIsRecognisedByItsHeader() throws {
        let dir = NSTemporaryDirectory() + "orbit-sniff-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [(String, ImportFormat?)] = [
            ("uid,fid,rank\n1,2,0\n", .follows), ("uid,blocked\n1,2\n", .blocks), ("uid,post,kind,ts\n1,p,view,3\n", .interactions),
            ("id,author,created_at\np,1,3\n", .posts), ("id,created_at,flags\n1,3,\n", .users),
            (#"{"id":"p","author":"a","created_at":1}"# + "\n", .posts), ("a b\n", nil),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let path = "\(dir)/train\(i).csv"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(ImportFormat.detect(reading: path) == expected, "\(text)")
        }
        // The name still wins when it tells.
        try "uid,blocked\n1,2\n".write(toFile: dir + "/follows.csv", atomically: true, encoding: .utf8)
        #expect(ImportFormat.detect(reading: dir + "/follows.csv") == .follows)
    }
}
