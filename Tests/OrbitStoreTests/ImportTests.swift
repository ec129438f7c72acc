import Foundation
import OrbitCore
import StoreTestSupport
import Testing
@testable import OrbitStore

// Reading files; what a store does with the rows is tested in StoreConformanceTests.

@Suite struct FileTests {
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
