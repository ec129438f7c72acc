import Foundation
import OrbitServer
import Testing
import TestThreads

/// A user of the fixture with follows and engagement, whose recommendations are non-trivial.
private func activeUser(_ f: ServerFixture) -> String {
    let s = f.network
    let u = (0..<Int32(s.userCount)).first { u in
        s.follows.filter { $0.follower == u }.count >= 4 && s.flags[Int(u)].isEmpty
    }!
    return "u\(u)"
}

/// Users added since the snapshot, following each other: the expansion's counters cover the
/// overlay's users, not only the snapshot's (they were sized by the snapshot, and a new user
/// following new users wrote past them: heap corruption, seen as a crash of `orbit serve`).
@Suite(.testThreads) struct OverlayExpansionTests {
    @Test func aNewUserFollowingNewUsersIsServedWithoutTheirFolloweesAndWithinBounds() async throws {
        let f = try await ServerFixture.make(users: 80)
        defer { f.remove() }
        _ = try await f.service.refresh(retrain: true)  // the ranker's union is what reaches the overlay's users
        try await f.withRouter { c in
            let follows = [("ox-a", "ox-b"), ("ox-a", "ox-e"), ("ox-b", "ox-c"), ("ox-b", "ox-d"), ("ox-e", "ox-c"), ("ox-e", "ox-d")]
            let events = follows.map { #"{"type": "follow", "follower": "\#($0.0)", "followee": "\#($0.1)"}"# }.joined(separator: ",")
            #expect(try await c.post("/v1/events", #"{"events": [\#(events)]}"#).status == 200)
            // The ranked union marks the user's own (new) followees as seen: they are never suggested.
            for logic in ["", "&logic=graph", "&logic=simple", "&logic=none"] {
                let r = try await c.get("/v1/users/ox-a/follow-recommendations?k=50&explain=true\(logic)")
                #expect(r.status == 200)
                let suggested = users(r)
                #expect(!suggested.isEmpty && !suggested.contains("ox-b") && !suggested.contains("ox-e"), "\(logic): \(suggested)")
            }
            #expect(try await c.get("/v1/users/ox-a/feed?k=10").status == 200)
            #expect(try await c.get("/v1/users/ox-b/similar?k=5").status == 200)
        }
    }
}

@Suite(.testThreads) struct OperationRouteTests {
    @Test func healthReadyMetricsAndOpenAPIAnswer() async throws {
        let f = try await ServerFixture.make()
        defer { f.remove() }
        try await f.withServer { c in
            #expect(try await c.get("/health").object["status"] as? String == "ok")
            let ready = try await c.get("/ready")
            #expect(ready.status == 200 && ready.object["ready"] as? Bool == true)
            _ = try await c.get("/v1/users/u1/follow-recommendations")
            let metrics = try await c.get("/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("orbit_http_requests_total{route=\"/v1/users/:id/follow-recommendations\",method=\"GET\",status=\"200\"} 1"))
            #expect(metrics.text.contains("orbit_snapshot_age_seconds"))
            #expect(metrics.text.contains("orbit_ingest_lag_versions 0"))
            let doc = try await c.get("/openapi.json")
            #expect(doc.status == 200 && doc.object["openapi"] as? String == "3.1.0")
        }
    }

    @Test func theOpenAPIDocumentListsEveryRouteTheServerAnswers() async throws {
        let f = try await ServerFixture.make(users: 100)
        defer { f.remove() }
        try await f.withServer { c in
            let paths = try await c.get("/openapi.json").object["paths"] as? [String: [String: Any]] ?? [:]
            let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
            let expected: Set<String> = [
                "GET /health", "GET /ready", "GET /metrics", "GET /openapi.json", "POST /v1/events", "POST /v1/users", "POST /v1/follows",
                "POST /v1/unfollows", "POST /v1/blocks", "POST /v1/unblocks", "POST /v1/posts", "POST /v1/interactions",
                "PUT /v1/users/{id}/flags", "GET /v1/users/{id}", "GET /v1/users/{id}/follow-recommendations", "GET /v1/users/{id}/posts",
                "GET /v1/users/{id}/feed", "GET /v1/leaderboards", "GET /v1/model", "POST /v1/admin/refresh",
                "POST /v1/users/{id}/dismissals", "GET /v1/users/{id}/dismissals", "DELETE /v1/users/{id}/dismissals/{candidate}",
                "POST /v1/impressions", "GET /v1/users/{id}/similar", "GET /v1/model/training",
                "GET /dashboard", "GET /dashboard/app.css", "GET /dashboard/app.js",
            ]
            #expect(documented == expected)
            // Every documented route is served: none answers "no route".
            for route in documented {
                let parts = route.split(separator: " ")
                let path = String(parts[1]).replacingOccurrences(of: "{id}", with: "u1").replacingOccurrences(of: "{candidate}", with: "u2")
                let r = try await c.request(.init(String(parts[0]))!, path, body: parts[0] == "GET" ? nil : "{}", token: ServerFixture.writeToken)
                #expect(r.error["code"] as? String != "not_found", "\(route) is documented but not served")
            }
        }
    }

    @Test func unknownRoutesAnswerJSONErrors() async throws {
        let f = try await ServerFixture.make(users: 100)
        defer { f.remove() }
        try await f.withServer { c in
            let r = try await c.get("/v2/nothing")
            #expect(r.status == 404 && r.error["code"] as? String == "not_found")
        }
    }
}

@Suite(.testThreads) struct ReadRouteTests {
    @Test func everyReadRouteAnswersAndNamesTheBadParameter() async throws {
        let f = try await ServerFixture.make()
        defer { f.remove() }
        let u = activeUser(f)
        try await f.withServer { c in
            let recs = try await c.get("/v1/users/\(u)/follow-recommendations?k=7&explain=true")
            #expect(recs.status == 200)
            #expect(recs.items.count == 7)
            #expect(recs.object["filtered"] is [String: Any] && recs.object["sources"] is [String: Any])
            #expect(recs.items.allSatisfy { $0["reason"] is String && $0["source"] is String && $0["score"] is Double })
            let plain = try await c.get("/v1/users/\(u)/follow-recommendations?k=7")
            #expect(plain.items.allSatisfy { $0["score"] == nil })
            #expect(try await c.get("/v1/users/\(u)/follow-recommendations?logic=none").status == 200)

            let posts = try await c.get("/v1/users/\(u)/posts?k=5")
            #expect(posts.status == 200 && posts.items.count <= 5 && !posts.items.isEmpty)
            let feed = try await c.get("/v1/users/\(u)/feed?k=6&posts=2")
            #expect(feed.status == 200 && feed.items.count == 6)
            #expect(feed.items.filter { $0["type"] as? String == "post" }.count <= 2)
            let boards = try await c.get("/v1/leaderboards?k=3")
            #expect((boards.object["mostFollowed"] as? [Any])?.count == 3)
            let summary = try await c.get("/v1/users/\(u)")
            #expect(summary.object["id"] as? String == u && (summary.object["followees"] as? Int ?? 0) >= 4)
            let model = try await c.get("/v1/model")
            #expect((model.object["snapshot"] as? [String: Any])?["users"] as? Int == f.network.userCount)

            for (uri, location) in [
                ("/v1/users/nobody/follow-recommendations", "id"), ("/v1/users/nobody/posts", "id"), ("/v1/users/nobody/feed", "id"),
                ("/v1/users/nobody", "id"),
            ] {
                let r = try await c.get(uri)
                #expect(r.status == 404 && r.errorWhere == location && r.error["code"] as? String == "unknown_user", "\(uri)")
            }
            for (query, location) in [
                ("k=0", "k"), ("k=501", "k"), ("k=ten", "k"), ("explain=maybe", "explain"), ("logic=magic", "logic"),
            ] {
                let r = try await c.get("/v1/users/\(u)/follow-recommendations?\(query)")
                #expect(r.status == 400 && r.errorWhere == location, "\(query): \(r.text)")
            }
            #expect(try await c.get("/v1/users/\(u)/feed?posts=-1").errorWhere == "posts")
            #expect(try await c.get("/v1/leaderboards?k=0").errorWhere == "k")
        }
    }

    @Test func readTokensWhenConfigured() async throws {
        let f = try await ServerFixture.make(users: 100) { $0.readTokens = [ServerFixture.readToken] }
        defer { f.remove() }
        try await f.withServer { c in
            let open = try await c.get("/v1/leaderboards")
            #expect(open.status == 401 && open.errorWhere == "Authorization")
            #expect(try await c.get("/v1/leaderboards", token: "not-a-token-at-all-0000").status == 401)
            #expect(try await c.get("/v1/leaderboards", token: ServerFixture.readToken).status == 200)
            #expect(try await c.get("/v1/leaderboards", token: ServerFixture.writeToken).status == 200)
            #expect(try await c.get("/health").status == 200)
            // A read token does not write.
            let before = try await f.fingerprint()
            let w = try await c.post("/v1/follows", #"{"follower": "u1", "followee": "u2"}"#, token: ServerFixture.readToken)
            #expect(w.status == 401)
            #expect(try await f.fingerprint() == before)
        }
    }
}

@Suite(.testThreads) struct WriteRouteTests {
    static let writes: [(String, String)] = [
        ("/v1/users", #"{"id": "zed"}"#),
        ("/v1/follows", #"{"follower": "u1", "followee": "u2"}"#),
        ("/v1/unfollows", #"{"follower": "u1", "followee": "u2"}"#),
        ("/v1/blocks", #"{"user": "u1", "blocked": "u2"}"#),
        ("/v1/unblocks", #"{"user": "u1", "blocked": "u2"}"#),
        ("/v1/posts", #"{"id": "p-new", "author": "u1"}"#),
        ("/v1/interactions", #"{"user": "u1", "post": "p1", "kind": "like"}"#),
        ("/v1/events", #"{"events": [{"type": "follow", "follower": "u1", "followee": "u3"}]}"#),
        ("/v1/admin/refresh?wait=true", "{}"),
    ]

    @Test func writesWithoutTheWriteTokenAreRefusedAndWriteNothing() async throws {
        let f = try await ServerFixture.make(users: 100)
        defer { f.remove() }
        let before = try await f.fingerprint()
        try await f.withServer { c in
            for (path, body) in Self.writes {
                for token in [nil, "wrong-token-0123456789", ServerFixture.writeToken + "x", String(ServerFixture.writeToken.dropLast())] {
                    let r = try await c.post(path, body, token: token)
                    #expect(r.status == 401 && r.error["code"] as? String == "unauthorized", "\(path) with \(token ?? "no token")")
                }
            }
            let flags = try await c.request(.put, "/v1/users/u1/flags", body: #"{"flags": ["reported"]}"#)
            #expect(flags.status == 401)
        }
        #expect(try await f.fingerprint() == before)
    }

    @Test func everyWriteRouteWritesAndTheNextRequestSeesIt() async throws {
        let f = try await ServerFixture.make()
        defer { f.remove() }
        let u = activeUser(f)
        try await f.withServer { c in
            let base = "/v1/users/\(u)/follow-recommendations?k=10"
            let first = users(try await c.get(base))
            #expect(first.count == 10)

            // follow: the followed user leaves the list, the followee count grows.
            let followees = try await c.get("/v1/users/\(u)").object["followees"] as? Int ?? -1
            let v = first[0]
            let w1 = try await c.post("/v1/follows", #"{"follower": "\#(u)", "followee": "\#(v)", "at": 1735000000}"#)
            #expect(w1.status == 200 && w1.object["accepted"] as? Int == 1)
            #expect(!users(try await c.get(base)).contains(v))
            #expect(try await c.get("/v1/users/\(u)").object["followees"] as? Int == followees + 1)
            // unfollow: back to the old count.
            #expect(try await c.post("/v1/unfollows", #"{"follower": "\#(u)", "followee": "\#(v)"}"#).status == 200)
            #expect(try await c.get("/v1/users/\(u)").object["followees"] as? Int == followees)

            // block: the blocked user is filtered at once; unblock answers.
            let second = users(try await c.get(base))
            let b = second[0]
            #expect(try await c.post("/v1/blocks", #"{"user": "\#(u)", "blocked": "\#(b)"}"#).status == 200)
            #expect(!users(try await c.get(base)).contains(b))
            #expect(try await c.post("/v1/unblocks", #"{"user": "\#(u)", "blocked": "\#(b)"}"#).status == 200)

            // flags: a blacklisted user disappears from everyone's lists.
            let third = users(try await c.get(base))
            let x = third[0]
            let fl = try await c.request(.put, "/v1/users/\(x)/flags", body: #"{"flags": ["blacklisted"]}"#, token: ServerFixture.writeToken)
            #expect(fl.status == 200)
            #expect(!users(try await c.get(base)).contains(x))
            #expect(try await c.get("/v1/users/\(x)").object["flags"] as? [String] == ["blacklisted"])

            // A new user is served at once, by the cold-start sources.
            #expect(try await c.post("/v1/users", #"{"id": "newcomer"}"#).status == 200)
            let cold = try await c.get("/v1/users/newcomer/follow-recommendations?k=5")
            #expect(cold.status == 200 && cold.object["coldStart"] as? Bool == true && cold.items.count == 5)

            // A new post and a comment on it: its author leads the engaged-authors source at once.
            #expect(try await c.post("/v1/posts", #"{"id": "fresh-post", "author": "newcomer"}"#).status == 200)
            let i = try await c.post("/v1/interactions", #"{"user": "\#(u)", "post": "fresh-post", "kind": "comment"}"#)
            #expect(i.status == 200)
            let after = try await c.get(base)
            #expect(after.items.first?["user"] as? String == "newcomer")
            #expect(after.items.first?["source"] as? String == "engaged_authors")

            // The store holds all of it.
            #expect(try await f.fingerprint().users == f.network.userCount + 1)
        }
    }

    @Test func anAtomicBatchWithOneBadEventWritesNothingAndPerItemWritesTheRest() async throws {
        let f = try await ServerFixture.make(users: 100)
        defer { f.remove() }
        try await f.withServer { c in
            let before = try await f.fingerprint()
            let batch = #"[{"type": "follow", "follower": "u1", "followee": "u7"}, {"type": "interaction", "user": "u1", "post": "no-such-post", "kind": "like"}, {"type": "follow", "follower": "u2"}]"#
            let atomic = try await c.post("/v1/events", #"{"events": \#(batch)}"#)
            #expect(atomic.status == 400 && atomic.errorWhere == "events[2].followee")
            let atomic2 = try await c.post("/v1/events", #"{"events": [{"type": "follow", "follower": "u1", "followee": "u7"}, {"type": "interaction", "user": "u1", "post": "no-such-post", "kind": "like"}]}"#)
            #expect(atomic2.status == 422 && atomic2.errorWhere == "events[1].post")
            #expect(try await f.fingerprint() == before)

            let perItem = try await c.post("/v1/events", #"{"mode": "per_item", "events": \#(batch)}"#)
            #expect(perItem.status == 200)
            #expect(perItem.object["accepted"] as? Int == 1 && perItem.object["rejected"] as? Int == 2)
            let results = perItem.object["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["ok"] as? Bool } == [true, false, false])
            #expect((results[1]["error"] as? [String: Any])?["where"] as? String == "events[1].post")
            #expect(try await f.fingerprint().follows == before.follows + 1)
        }
    }

    @Test func limitsAndMediaTypes() async throws {
        let f = try await ServerFixture.make(users: 100) {
            $0.maxBodyBytes = 2_048
            $0.maxBatch = 3
        }
        defer { f.remove() }
        try await f.withServer { c in
            let before = try await f.fingerprint()
            let big = #"{"id": "\#(String(repeating: "a", count: 3_000))"}"#
            #expect(try await c.post("/v1/users", big).status == 413)
            let four = Array(repeating: #"{"type": "user", "id": "q"}"#, count: 4).joined(separator: ",")
            let tooMany = try await c.post("/v1/events", #"{"events": [\#(four)]}"#)
            #expect(tooMany.status == 413 && tooMany.errorWhere == "events")
            #expect(try await c.request(.post, "/v1/users", body: #"{"id": "q"}"#, token: ServerFixture.writeToken, contentType: "text/plain").status == 415)
            #expect(try await c.post("/v1/users", "").errorWhere == "body")
            #expect(try await c.post("/v1/users", "{\"id\": ").status == 400)
            let longID = try await c.post("/v1/users", #"{"id": "\#(String(repeating: "b", count: 300))"}"#)
            #expect(longID.status == 400 && longID.errorWhere == "id")
            let wrongType = try await c.post("/v1/follows", #"{"follower": 12, "followee": "u2"}"#)
            #expect(wrongType.status == 400 && wrongType.errorWhere == "follower")
            let lateTime = try await c.post("/v1/follows", #"{"follower": "u1", "followee": "u2", "at": 99999999999}"#)
            #expect(lateTime.status == 400 && lateTime.errorWhere == "at")
            #expect(try await f.fingerprint() == before)
        }
    }
}

@Suite(.testThreads) struct SwapTests {
    @Test func hotSwapsAndRetrainingUnderConcurrentRequestsFailNothing() async throws {
        let f = try await ServerFixture.make()
        defer { f.remove() }
        let u = activeUser(f)
        try await f.withRouter { c in
            #expect(try await c.get("/v1/users/\(u)").object["knownToFollowModel"] as? Bool == false)
            // Readers and a writer run until the retraining below has swapped its models in (and at
            // least 60 rounds each), so every swap happens under load. The retraining is started
            // without `wait`: its length depends on the machine, an HTTP read timeout must not.
            let retrained = Flag()
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for t in 0..<4 {
                    group.addTask {
                        var out: [Int] = []
                        var i = 0
                        while true {
                            if i >= 60, await retrained.isSet { break }
                            let path = i % 2 == 0 ? "/v1/users/u\((t * 7 + i) % 300)/follow-recommendations?k=10" : "/v1/users/u\((t * 5 + i) % 300)/feed?k=10"
                            out.append(try await c.get(path).status)
                            if t == 0 && i % 10 == 0 && i <= 50 {
                                out.append(try await c.post("/v1/follows", #"{"follower": "u\#(i)", "followee": "u\#(i + 1)"}"#).status)
                            }
                            i += 1
                        }
                        return out
                    }
                }
                group.addTask {
                    var out: [Int] = []
                    for _ in 0..<3 { try await f.service.refresh(retrain: false); out.append(200) }
                    let started = try await c.post("/v1/admin/refresh?retrain=true", "{}").status
                    out.append(started == 202 ? 200 : started)
                    let deadline = ContinuousClock.now + .seconds(600)
                    while ContinuousClock.now < deadline {
                        let model = try await c.get("/v1/model").object
                        if (model["followModel"] as? [String: Any])?["origin"] as? String == "trained",
                           model["refreshing"] as? Bool == false { break }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    await retrained.set()
                    return out
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let expectedCount = 4 * 60 + 6 + 4  // at least: reads, task 0's writes, refreshes
            #expect(statuses.count >= expectedCount)
            #expect(statuses.allSatisfy { $0 == 200 }, "non-200 answers: \(statuses.filter { $0 != 200 })")
            // The retrained model is served and described.
            let model = try await c.get("/v1/model").object
            let follow = model["followModel"] as? [String: Any]
            #expect(follow?["origin"] as? String == "trained")
            #expect(follow?["validationHR10"] is Double)
            #expect((model["clickModel"] as? [String: Any])?["origin"] as? String == "trained")
            #expect(FileManager.default.fileExists(atPath: f.service.configuration.clickModel))
            #expect(try await c.get("/v1/users/\(u)").object["knownToFollowModel"] as? Bool == true)
            // Writes made during the swaps are still visible after them.
            #expect(try await c.get("/v1/users/u10").object["followees"] as? Int ?? 0 >= 1)
            #expect(FileManager.default.fileExists(atPath: f.service.configuration.followModel))
        }
    }
}

