import Foundation
import HTTPTypes
@testable import OrbitServer
import Testing
import TestThreads

/// The OpenAPI document says exactly what the server accepts: the checks behind the live
/// schemathesis run (scripts/live_tests.sh contract), fast and in process.
@Suite(.testThreads) struct ContractTests {
    /// The published id pattern and `Validate.id` agree on every character class they draw lines
    /// between, and on random strings mixing them.
    @Test func theIDPatternAcceptsExactlyWhatTheServerAccepts() throws {
        // JSON Schema reads patterns as ECMA-262, where `$` is the end of input; ICU's `$` also
        // matches before a final line terminator, so `\z` says the same thing to ICU.
        let regex = try NSRegularExpression(pattern: String(Validate.idPattern.dropLast()) + "\\z")
        func patternAccepts(_ s: String) -> Bool {
            s.unicodeScalars.count <= Validate.maxIDLength
                && regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
        func serverAccepts(_ s: String) -> Bool { (try? Validate.id(s, at: "id")) != nil }
        var samples: [String] = ["", "u1", "a b", "a\u{0}b", "é", "👩‍👩‍👧", "👍", "a\u{200B}b", "\u{FEFF}u", "x\u{2028}", "\u{A0}",
                                 String(repeating: "é", count: 256), String(repeating: "é", count: 257), "\u{1F600}\u{1F600}"]
        // Both sides of every refused range, and random mixes.
        for r in Validate.refused {
            for v in [r.lowerBound, r.upperBound, r.lowerBound &- 1, r.upperBound &+ 1] {
                if let c = Unicode.Scalar(v) { samples.append("a" + String(Character(c)) + "b") }
            }
        }
        var rng = SystemRandomNumberGenerator()
        let pool: [UInt32] = [0x41, 0x20, 0x09, 0xA0, 0xAD, 0x600, 0x2003, 0x200D, 0x3000, 0xFEFF, 0xFFFE, 0xE9, 0x4E2D, 0x1F600, 0xE0001, 0x10FFFD]
        for _ in 0..<2_000 {
            let n = Int.random(in: 1...6, using: &rng)
            samples.append(String(String.UnicodeScalarView((0..<n).compactMap { _ in Unicode.Scalar(pool.randomElement(using: &rng)!) })))
        }
        let disagree = samples.filter { patternAccepts($0) != serverAccepts($0) }
        #expect(disagree.isEmpty, "pattern and server disagree on \(disagree.prefix(5).map { $0.unicodeScalars.map { String($0.value, radix: 16) } })")
    }

    @Test func theDocumentHasASchemaPerEventTypeLimitsAndBothSecurities() async throws {
        for readToken in [false, true] {
            let f = try await ServerFixture.make(users: 60) {
                $0.maxBatch = 7
                if readToken { $0.readTokens = ["read-token-0123456789"] }
            }
            defer { f.remove() }
            try await f.withRouter { c in
                let doc = try await c.get("/openapi.json").object
                let schemas = (doc["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
                let event = schemas["Event"] as? [String: Any] ?? [:]
                let discriminator = event["discriminator"] as? [String: Any] ?? [:]
                #expect(discriminator["propertyName"] as? String == "type")
                #expect((event["oneOf"] as? [Any])?.count == EventInput.types.count)
                let follow = schemas["FollowEvent"] as? [String: Any] ?? [:]
                #expect(Set(follow["required"] as? [String] ?? []) == ["type", "follower", "followee"])
                #expect(follow["additionalProperties"] as? Bool == false)
                let atomic = ((schemas["AtomicEventBatch"] as? [String: Any])?["properties"] as? [String: Any])?["events"] as? [String: Any]
                #expect(atomic?["minItems"] as? Int == 1 && atomic?["maxItems"] as? Int == 7)
                let paths = doc["paths"] as? [String: [String: [String: Any]]] ?? [:]
                let read = paths["/v1/users/{id}/follow-recommendations"]?["get"]?["security"] as? [[String: Any]] ?? []
                #expect(read.contains { $0.isEmpty } == !readToken, "reads' security lists the anonymous option only without a read token")
                #expect(read.contains { $0["bearer"] != nil })
                let write = paths["/v1/events"]?["post"]?["security"] as? [[String: Any]] ?? []
                #expect(write.count == 1 && write[0]["bearer"] != nil)
                let idParameter = (paths["/v1/users/{id}"]?["get"]?["parameters"] as? [[String: Any]])?.first?["schema"] as? [String: Any]
                #expect(idParameter?["pattern"] as? String == Validate.idPattern)
                let statuses = Set((paths["/v1/follows"]?["post"]?["responses"] as? [String: Any] ?? [:]).keys)
                #expect(statuses.isSuperset(of: ["200", "400", "401", "413", "415", "422", "503"]))
            }
        }
    }

    @Test func bodiesAreCheckedAgainstTheirShapes() async throws {
        let f = try await ServerFixture.make(users: 60)
        defer { f.remove() }
        try await f.withRouter { c in
            let before = try await f.fingerprint()
            // null is refused where the schema says integer (leave the field out instead).
            let null = try await c.post("/v1/follows", #"{"follower": "u1", "followee": "u2", "at": null}"#)
            #expect(null.status == 400 && null.errorWhere == "at")
            // A field the event does not have.
            let extra = try await c.post("/v1/follows", #"{"follower": "u1", "followee": "u2", "kind": "like"}"#)
            #expect(extra.status == 400 && extra.errorWhere == "kind")
            let inBatch = try await c.post("/v1/events", #"{"events": [{"type": "user", "id": "n1", "follower": "u1"}]}"#)
            #expect(inBatch.status == 400 && inBatch.errorWhere == "events[0].follower")
            // An empty batch, a wrong type, a float timestamp.
            #expect(try await c.post("/v1/events", #"{"events": []}"#).errorWhere == "events")
            #expect(try await c.post("/v1/events", #"{"events": [{"type": "user", "id": 5}]}"#).errorWhere == "events[0].id")
            #expect(try await c.post("/v1/users", #"{"id": "n2", "at": 1.5}"#).errorWhere == "at")
            // A per-item batch's events must at least be objects.
            #expect(try await c.post("/v1/events", #"{"mode": "per_item", "events": [1]}"#).errorWhere == "events[0]")
            #expect(try await f.fingerprint() == before)
            // Well formed but refused by the data: 422.
            let selfFollow = try await c.post("/v1/follows", #"{"follower": "u1", "followee": "u1"}"#)
            #expect(selfFollow.status == 422 && selfFollow.error["code"] as? String == "self_reference")
            // Booleans are the document's: true or false.
            #expect(try await c.get("/v1/users/u1/follow-recommendations?explain=1").errorWhere == "explain")
            #expect(try await c.get("/v1/users/u1/follow-recommendations?explain=true").status == 200)
        }
    }

    @Test func anUndeclaredMethodAnswers405WithAllow() async throws {
        let f = try await ServerFixture.make(users: 60)
        defer { f.remove() }
        try await f.withRouter { c in
            let put = try await c.request(.put, "/v1/users/u1/follow-recommendations")
            #expect(put.status == 405 && put.headers[.allow] == "GET" && put.error["code"] as? String == "method_not_allowed")
            let get = try await c.request(.get, "/v1/events")
            #expect(get.status == 405 && get.headers[.allow] == "POST")
            let patch = try await c.request(.patch, "/v1/users/u1/dismissals")
            #expect(patch.status == 405 && Set((patch.headers[.allow] ?? "").components(separatedBy: ", ")) == ["POST", "GET"])
            let trace = try await c.request(HTTPRequest.Method("TRACE")!, "/health")
            #expect(trace.status == 405 && trace.headers[.allow] == "GET")
            // An unknown path stays 404.
            #expect(try await c.request(.put, "/v1/nowhere").status == 404)
        }
    }

    @Test func theDashboardIsServedWithItsFilesAndNoNetwork() async throws {
        let f = try await ServerFixture.make(users: 60) { $0.readTokens = ["read-token-0123456789"] }
        defer { f.remove() }
        try await f.withRouter { c in
            let page = try await c.get("/dashboard")
            #expect(page.status == 200 && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("/dashboard/app.js") && page.text.contains("/dashboard/app.css"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(!page.text.contains("http://") && !page.text.contains("https://"), "the page loads nothing from elsewhere")
            let script = try await c.get("/dashboard/app.js")
            #expect(script.status == 200 && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(!script.text.contains("https://") && script.text.contains("/v1/users/"))
            #expect(try await c.get("/dashboard/app.css").headers[.contentType]?.hasPrefix("text/css") == true)
            // Its data stays behind the read token.
            #expect(try await c.get("/v1/model").status == 401)
            #expect(try await c.get("/v1/model/training", token: "read-token-0123456789").status == 200)
        }
    }
}
