import Foundation
import Logging
import OrbitCore
import OrbitPostgres
import OrbitServer
import OrbitStore
import OrbitSynth
import StoreTestSupport
import TestThreads
import Testing

/// Two services on one PostgreSQL database, as two `orbit serve` replicas: each serves its own
/// snapshot and polls the store's change log, so a write through one is seen by the other.
private enum PostgresForTests {
    static let serverURL = ProcessInfo.processInfo.environment["ORBIT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// scripts/test.sh (and so CI) sets this: a missing server fails instead of skipping.
    static let required = ProcessInfo.processInfo.environment["ORBIT_REQUIRE_POSTGRES"] == "1"
}

@Suite(.testThreads, .enabled(if: PostgresForTests.serverURL != nil || PostgresForTests.required,
                "needs ORBIT_TEST_POSTGRES_URL; scripts/test.sh starts a throwaway PostgreSQL"))
struct ReplicaTests {

    @Test func aFollowWrittenThroughOneReplicaIsFilteredByTheOtherWithinThePollInterval() async throws {
        let url = try #require(PostgresForTests.serverURL, "ORBIT_REQUIRE_POSTGRES=1 but ORBIT_TEST_POSTGRES_URL is unset")
        let server = try PostgresStore.Configuration(url: url)
        let name = "orbit_replica_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        try await PostgresStore.createDatabase(name, server: server)
        let dir = NSTemporaryDirectory() + "orbit-replica-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let storeA = try await PostgresStore.open(server.database(name).forTests)
        let storeB = try await PostgresStore.open(server.database(name).forTests)
        do {
            var cfg = SynthConfig()
            cfg.users = 300
            cfg.seed = 5
            let paths = try Generator(config: cfg).generate().writeCSV(to: dir + "/gen")
            _ = try await storeA.importFiles(
                paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(), progress: nil)
            func service(_ store: PostgresStore) async throws -> OrbitService {
                try await ServerFixture.service(on: store, dir: dir, poll: 0.2)
            }
            let a = try await service(storeA), b = try await service(storeB)
            try await a.live { ca in
                try await b.live { cb in
                    let a = HTTPTestClient(raw: ca), b = HTTPTestClient(raw: cb)
                    var found: Int?
                    for i in 0..<300 where found == nil {
                        let warm = try await b.get("/v1/users/u\(i)").object["coldStart"] as? Bool == false
                        if warm, try await b.get("/v1/users/u\(i)/follow-recommendations?k=5").items.count == 5 { found = i }
                    }
                    let user = try #require(found)
                    let path = "/v1/users/u\(user)/follow-recommendations?k=5"
                    let target = try #require(users(try await b.get(path)).first)
                    let w = try await a.post("/v1/follows", #"{"follower": "u\#(user)", "followee": "\#(target)"}"#)
                    #expect(w.status == 200)
                    // Replica A sees its own write at once.
                    #expect(!users(try await a.get(path)).contains(target))
                    // Replica B sees it after a poll (0.2 s here); give it 5 s under load.
                    let start = Date()
                    var seen = false
                    while Date().timeIntervalSince(start) < 5 {
                        if !users(try await b.get(path)).contains(target) { seen = true; break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(seen, "replica B still recommends \(target) 5 s after replica A recorded the follow")
                    // A user created through B is known to A after a poll, with no index collision.
                    #expect(try await b.post("/v1/users", #"{"id": "made-on-b"}"#).status == 200)
                    #expect(try await a.post("/v1/users", #"{"id": "made-on-a"}"#).status == 200)
                    var known = false
                    while Date().timeIntervalSince(start) < 10 {
                        if try await a.get("/v1/users/made-on-b").status == 200, try await b.get("/v1/users/made-on-a").status == 200 {
                            known = true
                            break
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(known)
                    #expect(try await a.get("/v1/users/made-on-b/follow-recommendations").object["coldStart"] as? Bool == true)
                }
            }
        } catch {
            await storeA.close(); await storeB.close()
            try? await PostgresStore.dropDatabase(name, server: server)
            throw error
        }
        await storeA.close(); await storeB.close()
        try? await PostgresStore.dropDatabase(name, server: server)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
