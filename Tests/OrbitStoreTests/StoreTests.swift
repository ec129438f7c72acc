import Foundation
import OrbitCore
import StoreTestSupport
import Testing
@testable import OrbitStore
import TestThreads

// The tests every store must pass live in StoreConformanceTests; these need the SQLite file itself.

@Suite(.testThreads) struct CrashTests {
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

@Suite(.testThreads) struct DurabilityTests {
    @Test func storesSyncEveryCommitByDefaultAndOnlyWhenAskedAtCheckpoints() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        // SQLite reports synchronous as 2 for FULL and 1 for NORMAL.
        #expect(try await SQLiteStore(path: dir.path + "/a.sqlite").pragma("synchronous") == 2)
        #expect(try await SQLiteStore(path: dir.path + "/b.sqlite", durability: .full).pragma("synchronous") == 2)
        let normal = try SQLiteStore(path: dir.path + "/c.sqlite", durability: .normal)
        #expect(try await normal.pragma("synchronous") == 1)
        let mode = try await normal.journalMode()
        #expect(mode == "wal")
    }
}
