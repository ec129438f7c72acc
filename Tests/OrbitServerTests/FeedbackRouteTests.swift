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

/// Dismissals, impressions, the unlisted flag and similar accounts over HTTP, on SQLite and on
/// PostgreSQL: what a client sees before and after a snapshot rebuild and a restart.
@Suite(.testThreads) struct FeedbackRouteTests {
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres
        static let url = ProcessInfo.processInfo.environment["ORBIT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
        static var available: [Backend] {
            url != nil || ProcessInfo.processInfo.environment["ORBIT_REQUIRE_POSTGRES"] == "1" ? allCases : [.sqlite]
        }
    }

    /// Opens a new store instance on one data set each time it is called (a restart opens another).
    struct Stores: Sendable {
        let backend: Backend
        let dir: String
        let database: String
        let server: PostgresStore.Configuration?

        static func make(_ backend: Backend) async throws -> Stores {
            let dir = NSTemporaryDirectory() + "orbit-feedback-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard backend == .postgres else { return Stores(backend: backend, dir: dir, database: "", server: nil) }
            let url = try #require(Backend.url, "ORBIT_REQUIRE_POSTGRES=1 but ORBIT_TEST_POSTGRES_URL is unset")
            let server = try PostgresStore.Configuration(url: url)
            let name = "orbit_feedback_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
            try await PostgresStore.createDatabase(String(name), server: server)
            return Stores(backend: backend, dir: dir, database: String(name), server: server)
        }

        /// What `orbit serve --store` takes for this data.
        var location: String {
            guard let url = Backend.url, let slash = url.lastIndex(of: "/") else { return dir + "/s.sqlite" }
            return backend == .sqlite ? dir + "/s.sqlite" : String(url[..<slash]) + "/" + database
        }

        func open() async throws -> any Store {
            guard let server else { return try SQLiteStore(path: dir + "/s.sqlite") }
            return try await PostgresStore.open(server.database(database).forTests)
        }

        func service(_ store: any Store) async throws -> OrbitService { try await ServerFixture.service(on: store, dir: dir) }

        func remove() async {
            if let server { try? await PostgresStore.dropDatabase(database, server: server) }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test(arguments: Backend.available)
    func aDismissalHoldsAcrossRebuildsAndRestartsAndUndoRestoresIt(_ backend: Backend) async throws {
        let stores = try await Stores.make(backend)
        do {
            var cfg = SynthConfig()
            cfg.users = 300
            cfg.seed = 11
            let paths = try Generator(config: cfg).generate().writeCSV(to: stores.dir + "/gen")
            let first = try await stores.open()
            _ = try await first.importFiles(
                paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(), progress: nil)
            let service = try await stores.service(first)
            let (user, target, before) = try await service.live { raw in
                let client = HTTPTestClient(raw: raw)
                var found: (String, [String])?
                for i in 0..<300 where found == nil {
                    let list = users(try await client.get("/v1/users/u\(i)/follow-recommendations?k=5"))
                    if list.count == 5, try await client.get("/v1/users/u\(i)").object["coldStart"] as? Bool == false { found = ("u\(i)", list) }
                }
                let (user, before) = try #require(found)
                let target = before[0]
                let w = try await client.post("/v1/users/\(user)/dismissals", #"{"candidate": "\#(target)", "reason": "dont_know"}"#)
                #expect(w.status == 200, "\(w.text)")
                for q in ["", "&logic=none", "&explain=true"] {
                    let r = try await client.get("/v1/users/\(user)/follow-recommendations?k=50\(q)")
                    #expect(r.status == 200 && !users(r).contains(target), "\(q): \(r.text.prefix(200))")
                }
                let explained = try await client.get("/v1/users/\(user)/follow-recommendations?k=50&explain=true")
                #expect((explained.object["filtered"] as? [String: Int])?["dismissed"] ?? 0 >= 1)
                let feed = try await client.get("/v1/users/\(user)/feed?k=30&posts=0")
                let feedUsers: [String] = feed.items.compactMap { item in (item["user"] as? [String: Any])?["user"] as? String }
                #expect(!feedUsers.contains(target))
                #expect(try await client.get("/v1/users/\(user)/dismissals").object["candidates"] as? [String] == [target])
                // Bad input: an unknown reason, dismissing oneself, no token.
                #expect(try await client.post("/v1/users/\(user)/dismissals", #"{"candidate": "x", "reason": "rude"}"#).errorWhere == "reason")
                #expect(try await client.post("/v1/users/\(user)/dismissals", #"{"candidate": "\#(user)"}"#).status == 422)
                #expect(try await client.post("/v1/users/\(user)/dismissals", #"{"candidate": "x"}"#, token: nil).status == 401)
                // A snapshot rebuild keeps it out; it folded this test's writes into the last
                // snapshot rather than reading every table.
                let rebuilt = try await client.post("/v1/admin/refresh?wait=true", "")
                #expect(rebuilt.status == 200)
                #expect(rebuilt.object["replayedChanges"] as? Int ?? 0 >= 1, "\(rebuilt.text)")
                #expect(!users(try await client.get("/v1/users/\(user)/follow-recommendations?k=50")).contains(target))
                return (user, target, before)
            }
            // A restart: a new process state on a new store instance over the same data.
            let restarted = try await stores.service(try await stores.open())
            try await restarted.live { raw in
                let client = HTTPTestClient(raw: raw)
                let path = "/v1/users/\(user)/follow-recommendations?k=5"
                #expect(!users(try await client.get("/v1/users/\(user)/follow-recommendations?k=50")).contains(target))
                let undo = try await client.request(.delete, "/v1/users/\(user)/dismissals/\(target)", token: ServerFixture.writeToken)
                #expect(undo.status == 200, "\(undo.text)")
                #expect(users(try await client.get(path)) == before)
                #expect(try await client.get("/v1/users/\(user)/dismissals").object["candidates"] as? [String] == [])

                // Impressions: shown twice, demoted; six times, filtered.
                let show = #"{"user": "\#(user)", "candidates": ["\#(target)"], "surface": "home"}"#
                for _ in 0..<2 { #expect(try await client.post("/v1/impressions", show).status == 200) }
                let demoted = users(try await client.get(path))
                #expect(demoted.first != target, "shown twice, \(target) kept the first place: \(demoted)")
                for _ in 0..<4 { #expect(try await client.post("/v1/impressions", show).status == 200) }
                let r = try await client.get("/v1/users/\(user)/follow-recommendations?k=50&explain=true")
                #expect(!users(r).contains(target))
                #expect((r.object["filtered"] as? [String: Int])?["shown_too_often"] ?? 0 >= 1)
                #expect(try await client.post("/v1/impressions", #"{"user": "\#(user)", "candidates": []}"#).errorWhere == "candidates")
                #expect(try await client.post("/v1/impressions", #"{"user": "\#(user)", "candidates": ["a", ""]}"#).errorWhere == "candidates[1]")

                // Unlisted: the most followed account leaves the leaderboards and everyone's lists, keeps its own.
                let boards = try await client.get("/v1/leaderboards?k=5").object
                let star = try #require((boards["mostFollowed"] as? [[String: Any]])?.first?["user"] as? String)
                let flag = try await client.request(.put, "/v1/users/\(star)/flags", body: #"{"flags": ["unlisted"]}"#,
                                                    token: ServerFixture.writeToken)
                #expect(flag.status == 200, "\(flag.text)")
                let after = try await client.get("/v1/leaderboards?k=50").object
                for list in ["mostFollowed", "recentlyFollowed", "hotAuthors"] {
                    let names = (after[list] as? [[String: Any]] ?? []).compactMap { $0["user"] as? String }
                    #expect(!names.contains(star), "\(star) is still in \(list)")
                }
                #expect(!((after["hotPosts"] as? [[String: Any]] ?? []).contains { $0["author"] as? String == star }))
                for i in 0..<60 where "u\(i)" != star {
                    #expect(!users(try await client.get("/v1/users/u\(i)/follow-recommendations?k=20")).contains(star))
                }
                #expect(!users(try await client.get("/v1/users/\(star)/follow-recommendations?k=5")).isEmpty)
                #expect((try await client.get("/v1/users/\(star)").object["flags"] as? [String]) == ["unlisted"])

                // Similar accounts: answered with reasons, never the account itself or an unlisted one.
                let similar = try await client.get("/v1/users/\(target)/similar?k=5&explain=true")
                #expect(similar.status == 200 && !similar.items.isEmpty, "\(similar.text.prefix(200))")
                #expect(!users(similar).contains(target) && !users(similar).contains(star))
                #expect(similar.items.allSatisfy { ($0["reason"] as? String)?.contains("followed by") == true && $0["followerCosine"] != nil })
                let forUser = users(try await client.get("/v1/users/\(target)/similar?k=20&for=\(user)"))
                let loaded = try await restarted.store.loadSnapshot()
                let u = try #require(loaded.catalog.users.index(of: user))
                let followees = Set(loaded.snapshot.followees.row(u).map { loaded.catalog.users.externalID(of: $0) })
                #expect(followees.isDisjoint(with: forUser) && !forUser.contains(user))
                #expect(try await client.get("/v1/users/\(target)/similar?for=nobody-here").status == 404)
                #expect(try await client.get("/v1/users/nobody-here/similar").status == 404)
            }
        } catch {
            await stores.remove()
            throw error
        }
        await stores.remove()
    }
}
