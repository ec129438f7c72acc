import Foundation
import OrbitPostgres
import OrbitSynth
import Testing
import TestThreads

/// Every command that reads or writes a store works on PostgreSQL too: the CLI run against the
/// throwaway server that scripts/test.sh starts.
@Suite(.testThreads, .enabled(if: ProcessInfo.processInfo.environment["ORBIT_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false
                    || ProcessInfo.processInfo.environment["ORBIT_REQUIRE_POSTGRES"] == "1",
                "needs ORBIT_TEST_POSTGRES_URL; scripts/test.sh starts a throwaway PostgreSQL"))
struct CommandsOnPostgresTests {
    @Test func importTrainRecommendFeedEvaluateAndBenchRunAgainstAPostgresURL() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["ORBIT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "ORBIT_REQUIRE_POSTGRES=1 but ORBIT_TEST_POSTGRES_URL is unset")
        let server = try PostgresStore.Configuration(url: url)
        let name = "orbit_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        try await PostgresStore.createDatabase(name, server: server)
        let dir = NSTemporaryDirectory() + "orbit-cli-pg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            var cfg = SynthConfig()
            cfg.users = 250
            cfg.seed = 8
            let paths = try Generator(config: cfg).generate().writeCSV(to: dir + "/gen")
            // The database's URL: the server's with this test's database in place of its own.
            let store = url.split(separator: "/").dropLast().joined(separator: "/") + "/" + name
            try await OrbitCommand.succeed(["import", "--store", store] + paths, in: dir)
            let small = ["--factors", "4", "--layers", "8,4", "--epochs", "2", "--validation-users", "40", "--threads", "1", "--no-refit"]
            let train = try await OrbitCommand.succeed(["train", "--store", store, "--out", dir + "/follow.model", "--relation-index", "always"] + small, in: dir)
            #expect(train.out.contains("relation index of"))
            let rec = try await OrbitCommand.succeed(["recommend", "--store", store, "--user", "u3", "--model", dir + "/follow.model", "--logic", "complex"], in: dir)
            #expect(rec.out.contains(" 1. @"), "\(rec.out)")
            let feed = try await OrbitCommand.succeed(["feed", "--store", store, "--user", "u3", "--model", dir + "/follow.model"], in: dir)
            #expect(feed.out.contains(" 1. "), "\(feed.out)")
            let eval = try await OrbitCommand.succeed(["evaluate", "follow", "--store", store, "--users", "60", "--no-complex"] + small, in: dir)
            #expect(eval.out.contains("baseline: adamic_adar"), "\(eval.out.suffix(500))")
            let bench = try await OrbitCommand.succeed(["bench", "follow", "--store", store, "--model", dir + "/follow.model", "--requests", "20"], in: dir)
            #expect(bench.out.contains("p99"), "\(bench.out)")
            // The answers digest is what a speed-up is checked against: the same on a second run, another for other users.
            func digest(_ out: String) -> Substring? { out.split(separator: "\n").first { $0.hasPrefix("answers digest: ") } }
            let again = try await OrbitCommand.succeed(["bench", "follow", "--store", store, "--model", dir + "/follow.model", "--requests", "20"], in: dir)
            let others = try await OrbitCommand.succeed(
                ["bench", "follow", "--store", store, "--model", dir + "/follow.model", "--requests", "20", "--seed", "4"], in: dir)
            #expect(digest(bench.out) != nil && digest(again.out) == digest(bench.out), "\(bench.out)\n\(again.out)")
            #expect(digest(others.out) != nil && digest(others.out) != digest(bench.out), "\(others.out)")
            try await OrbitCommand.succeed(["stats", "--store", store], in: dir)
            // A store that does not exist is an error naming the cause, not an empty answer.
            let missing = try await OrbitCommand.run(["recommend", "--store", dir + "/nothing.sqlite", "--user", "u3"], in: dir)
            #expect(missing.status != 0 && missing.err.contains("no store at"), "\(missing.err)")
        } catch {
            try? await PostgresStore.dropDatabase(name, server: server)
            throw error
        }
        try? await PostgresStore.dropDatabase(name, server: server)
    }
}
