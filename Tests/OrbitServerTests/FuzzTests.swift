import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrbitServer
import OrbitSynth
import Testing
import TestThreads

// MARK: - HTTP over AsyncHTTPClient (used by these tests and ProcessTests)

/// A response read in full.
struct RawResponse: Sendable {
    let status: Int
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}

/// The head of a response arrived but its body did not: the response was cut mid-body.
struct BodyCut: Error {
    let status: Int
    let underlying: any Error
}

/// Runs `body` with a client of its own that keeps up to `connections` connections per host; shuts it down after.
/// (A refused connection is retried until `connect` has passed.) `body` runs on `TestExecutor.servers`:
/// these tests time requests (a connect timeout, a SIGTERM sent mid-flood), and on `TestExecutor.tests`
/// their tasks would wait behind tests that compute.
func withHTTPClient<T: Sendable>(
    connections: Int = 8, connect: TimeAmount = .seconds(5), idle: TimeAmount = .seconds(30), _ body: (HTTPClient) async throws -> T
) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: idle, concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.timeout = .init(connect: connect, read: .seconds(20))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    return try await withTaskExecutorPreference(TestExecutor.servers) {
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

extension HTTPClient {
    /// Sends one request and reads the whole answer; a body that ends early throws `BodyCut`.
    /// `chunked` sends the body without a Content-Length.
    func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, chunked: Bool = false
    ) async throws -> RawResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = chunked ? .bytes(body, length: .unknown) : .bytes(ByteBuffer(bytes: body)) }
        // A liveness bound, not a latency one: the suite runs 60 suites at once on two cores.
        let response = try await execute(request, timeout: .seconds(60))
        let status = Int(response.status.code)
        do {
            return RawResponse(status: status, body: Array(buffer: try await response.body.collect(upTo: 1 << 24)))
        } catch {
            throw BodyCut(status: status, underlying: error)
        }
    }
}

// MARK: - A seeded corpus of malformed requests

/// One request the server must refuse (or, for `per_item` batches, answer with every item rejected).
struct FuzzRequest: Sendable, CustomStringConvertible {
    var category: String
    var method: HTTPMethod
    /// Path and query, percent-encoded.
    var path: String
    var headers: [(String, String)] = []
    var body: [UInt8]? = nil
    var chunked = false
    var expected: Range<Int> = 400..<500
    /// A `per_item` batch of this many events, each of which must be rejected.
    var perItemEvents: Int? = nil

    var description: String {
        let shownBody = body.map { b in
            let s = String(decoding: b.prefix(300), as: UTF8.self).debugDescription
            return " body(\(b.count) bytes\(chunked ? ", chunked" : "")): \(s)"
        } ?? ""
        let auth = headers.first { $0.0 == "Authorization" }.map { " auth=\($0.1.prefix(40).debugDescription)" } ?? ""
        return "[\(category)] \(method.rawValue) \(path.prefix(300))\(auth)\(shownBody)"
    }
}

/// A JSON object kept as raw fragments, so tests can put anything (even broken JSON) in a value.
struct RawObject {
    private(set) var keys: [String] = []
    private var values: [String: String] = [:]

    subscript(key: String) -> String? {
        get { values[key] }
        set {
            if newValue != nil, values[key] == nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    var json: String { "{" + keys.map { "\(jsonString($0)):\(values[$0]!)" }.joined(separator: ",") + "}" }
}

/// `s` as a JSON string literal (non-ASCII kept as UTF-8).
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

/// `s` percent-encoded for a path segment or a query value.
func percentEncoded(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))!
}

enum FuzzValues {
    /// Ids the API accepts (no whitespace, control or format characters) that no user or post of the fixture has.
    static let strangeIDs = [
        "<script>alert(1)</script>", "../../etc/passwd", "..", "%00", "%2e%2e%2f", "😀🚀", "שלום", "Robert');DROP",
        "${jndi:ldap://x/a}", "{{7*7}}", "a\\b", "\"quoted\"", "null", "0", "-1", "u1?x=1", "u1#frag", "u1/feed", "\u{E000}",
        "1;SELECT*FROM(users)", "p1'--", "ü̈", "\u{0308}u1",
    ]
    /// Ids the API refuses: whitespace, control, format or unassigned characters, empty, longer than 256 bytes.
    static let invalidIDs = [
        "'; DROP TABLE users; --", "\u{0000}", "a\u{0000}b", "a\u{200F}b", "\u{202E}gnp.exe", "\u{FEFF}u1", "", " ", "u1 ",
        "tab\there", "line\nbreak", "a\u{2028}b", "\u{7F}", "👩‍👩‍👧", "\u{FFFF}", String(repeating: "x", count: 10_000),
        String(repeating: "é", count: 257), String(repeating: "<script>", count: 40),
    ]
    static let badTimestamps = [
        "-1", "-1700000000", "4102444801", "99999999999", "9223372036854775807", "-9223372036854775808", "1e400",
        "99999999999999999999999", "-99999999999999999999999", "1.5", "\"1700000000\"", "true", "{}", "[1700000000]",
    ]
    static let kinds = ["view", "click", "like", "repost", "comment", "author_click"]
    static let badKinds = ["", "VIEW", "likes", "share", "0", "<script>", "view\u{0000}", "author-click", "'; DROP TABLE interactions; --"]
    static let flags = ["inactive", "blacklisted", "reported"]
    static let badFlags = ["admin", "INACTIVE", "", "<script>", "reported\u{0000}", "deleted", "inactive "]
    static let badTypes = ["followx", "FOLLOW", "Follow", "", "drop", "<script>", "'; DROP TABLE events; --", "user\u{0000}", "🙂", "flags "]
    /// Values of the wrong JSON type for a string field, the flags array and the timestamp.
    static let notStrings = ["123", "-1", "1e400", "true", "{}", "[]", "[\"a\"]", "{\"id\":\"x\"}", "0.5", "99999999999999999999999"]
    static let notFlagLists = ["\"inactive\"", "{}", "{\"inactive\":true}", "1", "[1]", "[null]", "[[\"inactive\"]]", "true"]
    static let notTimestamps = ["\"1700000000\"", "1.5", "1e400", "true", "{}", "[1]", "\"now\"", "-99999999999999999999999"]

    static let eventFields: [String: [String]] = [
        "user": ["id"], "follow": ["follower", "followee"], "unfollow": ["follower", "followee"], "block": ["user", "blocked"],
        "unblock": ["user", "blocked"], "post": ["id", "author"], "interaction": ["user", "post", "kind"], "flags": ["user", "flags"],
    ]
    static let allKeys = ["type", "id", "follower", "followee", "user", "blocked", "author", "post", "kind", "flags", "at"]
    /// The single-event routes and the type each records.
    static let singleRoutes = [
        ("/v1/users", "user"), ("/v1/follows", "follow"), ("/v1/unfollows", "unfollow"), ("/v1/blocks", "block"),
        ("/v1/unblocks", "unblock"), ("/v1/posts", "post"), ("/v1/interactions", "interaction"),
    ]
    static let readSuffixes = ["", "/follow-recommendations", "/posts", "/feed"]
}

/// Builds the corpus. Every write in it is refused for a reason of its own (its "poison"): an
/// unknown post, a bad timestamp, a missing field, an invalid id, a wrong token... so no request
/// may change the store, and a 4xx is the right answer to each.
struct FuzzCorpus {
    enum Context { case batch, single(String), flagsRoute }

    /// Seeded (OrbitSynth's generator), so the corpus is the same on every run.
    private var rng: SeededRandom
    let users: Int
    let maxBatch: Int
    let maxBodyBytes: Int
    let token: String
    private var serial = 0
    private(set) var requests: [FuzzRequest] = []

    init(seed: UInt64, users: Int, maxBatch: Int, maxBodyBytes: Int, token: String) {
        rng = SeededRandom(seed: seed)
        self.users = users
        self.maxBatch = maxBatch
        self.maxBodyBytes = maxBodyBytes
        self.token = token
    }

    // MARK: randomness

    private mutating func int(_ r: Range<Int>) -> Int { r.lowerBound + rng.below(r.count) }
    private mutating func pick<T>(_ a: [T]) -> T { a[int(0..<a.count)] }
    private mutating func chance(_ p: Double) -> Bool { rng.chance(p) }
    private mutating func fresh(_ prefix: String) -> String {
        serial += 1
        return "\(prefix)\(serial)"
    }
    private mutating func knownUser() -> String { "u\(int(0..<users))" }
    private mutating func validID() -> String {
        switch int(0..<3) {
        case 0: knownUser()
        case 1: pick(FuzzValues.strangeIDs)
        default: fresh("fz-")
        }
    }

    // MARK: events

    /// A well-formed event of `type`; only interactions are refused, as they name posts that do not exist.
    private mutating func plainEvent(_ type: String, withType: Bool) -> RawObject {
        var o = RawObject()
        if withType { o["type"] = jsonString(type) }
        for field in FuzzValues.eventFields[type]! {
            switch field {
            case "kind": o[field] = jsonString(pick(FuzzValues.kinds))
            case "flags": o[field] = "[" + FuzzValues.flags.filter { _ in chance(0.5) }.map(jsonString).joined(separator: ",") + "]"
            case "post": o[field] = jsonString(chance(0.5) ? fresh("nopost-") : pick(FuzzValues.strangeIDs))
            default: o[field] = jsonString(validID())
            }
        }
        if chance(0.6) { o["at"] = String(1_600_000_000 + int(0..<100_000_000)) }
        return o
    }

    /// An event the server must refuse, and what is wrong with it. `semantic`: only faults that still decode
    /// (a `per_item` batch answers those per item).
    private mutating func poisonedEvent(_ context: Context, semantic: Bool = false) -> (RawObject, String) {
        let type: String
        switch context {
        case .batch: type = pick(FuzzValues.eventFields.keys.sorted())
        case .single(let t): type = t
        case .flagsRoute: type = "flags"
        }
        var o: RawObject
        switch context {
        case .batch: o = plainEvent(type, withType: true)
        case .single: o = plainEvent(type, withType: chance(0.5))
        case .flagsRoute:
            o = plainEvent("flags", withType: false)
            o["user"] = nil
            if chance(0.3) { o["user"] = jsonString(pick(FuzzValues.invalidIDs)) }
            if chance(0.3) { o["type"] = jsonString(pick(FuzzValues.badTypes)) }
        }
        let fields = FuzzValues.eventFields[type]!
        let idFields = fields.filter { !["kind", "flags"].contains($0) && !(type == "flags" && $0 == "user") }
        var poisons = ["badAt", "missingField"]
        if !semantic { poisons.append("wrongType") }
        switch context {
        case .batch: poisons += ["unknownType", "missingType"]
        case .single: poisons.append("unknownType")
        case .flagsRoute: break
        }
        if !idFields.isEmpty { poisons.append("invalidID") }
        if ["follow", "unfollow", "block", "unblock"].contains(type) { poisons.append("selfEdge") }
        if type == "interaction" { poisons += ["unknownKind", "unknownPost"] }
        if type == "flags" { poisons.append("unknownFlag") }

        let poison = pick(poisons)
        switch poison {
        case "badAt":
            o["at"] = semantic ? pick(["-1", "-1700000000", "4102444801", "99999999999", "9223372036854775807"]) : pick(FuzzValues.badTimestamps)
        case "missingField":
            o[pick(type == "flags" ? ["flags"] : fields)] = nil
        case "wrongType":
            let key = pick(FuzzValues.allKeys)
            o[key] = key == "flags" ? pick(FuzzValues.notFlagLists) : key == "at" ? pick(FuzzValues.notTimestamps) : pick(FuzzValues.notStrings)
        case "unknownType":
            if case .single(let t) = context {
                o["type"] = jsonString(chance(0.5) ? pick(FuzzValues.badTypes) : pick(FuzzValues.eventFields.keys.filter { $0 != t }.sorted()))
            } else {
                o["type"] = jsonString(pick(FuzzValues.badTypes))
            }
        case "missingType": o["type"] = nil
        case "invalidID": o[pick(idFields)] = jsonString(pick(FuzzValues.invalidIDs))
        case "selfEdge": o[fields[1]] = o[fields[0]]
        case "unknownKind": o["kind"] = jsonString(pick(FuzzValues.badKinds))
        case "unknownFlag":
            o["flags"] = "[" + (FuzzValues.flags.filter { _ in chance(0.5) } + [pick(FuzzValues.badFlags)]).map(jsonString).joined(separator: ",") + "]"
        default: break  // unknownPost: every interaction names a post that does not exist
        }
        // Fields the shape does not have (refused too: the document says additionalProperties false).
        if chance(0.2) { o[pick(["extra", "__proto__", "$where", "constructor"])] = jsonString(pick(FuzzValues.strangeIDs)) }
        return (o, poison)
    }

    /// A batch with one poisoned event among well-formed ones (atomic mode: none may be written).
    private mutating func poisonedBatch(mode: String? = nil) -> (String, String) {
        let n = int(1..<(maxBatch + 1))
        let bad = int(0..<n)
        var events: [String] = []
        var why = ""
        for i in 0..<n {
            if i == bad {
                let (e, p) = poisonedEvent(.batch)
                events.append(e.json)
                why = p
            } else {
                events.append(plainEvent(pick(FuzzValues.eventFields.keys.sorted()), withType: true).json)
            }
        }
        let modeField = mode.map { ",\"mode\":\($0)" } ?? ""
        return ("{\"events\":[" + events.joined(separator: ",") + "]" + modeField + "}", why)
    }

    // MARK: requests

    private var auth: [(String, String)] { [("Authorization", "Bearer \(token)")] }

    private mutating func add(_ category: String, _ method: HTTPMethod, _ path: String, body: String? = nil, authorized: Bool = true,
                              headers: [(String, String)] = [("Content-Type", "application/json")], expected: Range<Int> = 400..<500) {
        requests.append(FuzzRequest(
            category: category, method: method, path: path, headers: (authorized ? auth : []) + headers,
            body: body.map { Array($0.utf8) }, expected: expected))
    }

    private mutating func writeTarget() -> (HTTPMethod, String, Context) {
        switch int(0..<10) {
        case 0..<4: return (.POST, "/v1/events", .batch)
        case 4:
            let id = chance(0.7) ? knownUser() : pick(FuzzValues.strangeIDs)
            return (.PUT, "/v1/users/\(percentEncoded(id))/flags", .flagsRoute)
        default:
            let (path, type) = pick(FuzzValues.singleRoutes)
            return (.POST, path, .single(type))
        }
    }

    private mutating func poisonedBody(_ context: Context) -> (String, String) {
        if case .batch = context { return poisonedBatch(mode: chance(0.3) ? "\"atomic\"" : nil) }
        let (e, why) = poisonedEvent(context)
        return (e.json, why)
    }

    /// Reads of users that do not exist or whose ids are invalid; bad query parameters of existing users.
    mutating func reads(_ n: Int) {
        // Every odd id on every user route (flags with a well-formed body: only the id is wrong), then random ones.
        for id in FuzzValues.strangeIDs + FuzzValues.invalidIDs {
            for suffix in FuzzValues.readSuffixes {
                add("read-bad-id", .GET, "/v1/users/\(percentEncoded(id))\(suffix)", authorized: false, headers: [])
            }
        }
        for id in FuzzValues.invalidIDs {
            add("flags-bad-id", .PUT, "/v1/users/\(percentEncoded(id))/flags", body: "{\"flags\":[\"reported\"]}")
        }
        for _ in 0..<n {
            let suffix = pick(FuzzValues.readSuffixes)
            switch int(0..<5) {
            case 0, 1:
                let id = chance(0.5) ? pick(FuzzValues.strangeIDs) : pick(FuzzValues.invalidIDs)
                add("read-bad-id", .GET, "/v1/users/\(percentEncoded(id))\(suffix)", authorized: false, headers: [])
            case 2:
                add("read-unknown-user", .GET, "/v1/users/\(percentEncoded(fresh("nobody-")))\(suffix)?k=5", authorized: false, headers: [])
            case 3 where suffix != "":
                var params = ["k": ["-1", "0", "abc", "999999", "501", "99999999999999999999", "1e3", "1.5", "", "\u{0}", "0x10", " 5", "5abc", "-0"],
                              "explain": ["maybe", "2", "yes please", "tru", "\u{0}", "TRUE!", "null"]]
                if suffix == "/follow-recommendations" { params["logic"] = ["zzz", "", "NEUMF", "Simple", "simple ", "<script>", "none\u{0}"] }
                if suffix == "/feed" { params["posts"] = ["-1", "abc", "501", "1e2", "99999999999999999999"] }
                let name = pick(params.keys.sorted())
                let value = percentEncoded(pick(params[name]!))
                let other = name != "k" && chance(0.5) ? "k=\(int(1..<50))&" : ""
                add("read-bad-query", .GET, "/v1/users/\(knownUser())\(suffix)?\(other)\(name)=\(value)", authorized: false, headers: [])
            default:
                let k = pick(["-1", "0", "abc", "999999", "501", "", "1e3", "%00", "99999999999999999999"])
                add("leaderboard-bad-k", .GET, "/v1/leaderboards?k=\(k)", authorized: false, headers: [])
            }
        }
    }

    /// Paths no route answers, and routes called with another method.
    mutating func unknownRoutesAndMethods(_ n: Int) {
        let unknown = [
            "/", "/v1", "/v1/nothing", "/v2/events", "/v1/events/1", "/v1/users/u1/feed/extra", "/v1/users/u1/flags", "/%00",
            "/..%2F..%2Fetc%2Fpasswd", "/v1/users/u1/..%2F..%2Fadmin", "/metrics/x", "/openapi.yaml", "/v1/admin",
            "/v1/admin/refresh/now", "/.env", "/v1/leaderboards/all", "/V1/EVENTS", "/v1/Users/u1", "/v1/users/u1/follow_recommendations",
            "/v1/users/%3Cscript%3E/flags/x", "/wp-admin/", "/v1/events%00",
        ]
        let routes: [(HTTPMethod, String)] = [
            (.GET, "/health"), (.GET, "/ready"), (.GET, "/metrics"), (.GET, "/openapi.json"), (.POST, "/v1/events"),
            (.PUT, "/v1/users/u1/flags"), (.GET, "/v1/users/u1"), (.GET, "/v1/users/u1/follow-recommendations"), (.GET, "/v1/users/u1/posts"),
            (.GET, "/v1/users/u1/feed"), (.GET, "/v1/leaderboards"), (.GET, "/v1/model"), (.POST, "/v1/admin/refresh"),
        ] + FuzzValues.singleRoutes.map { (.POST, $0.0) }
        for i in 0..<n {
            if i % 3 == 0 {
                let path = chance(0.8) ? pick(unknown) : "/" + percentEncoded(pick(FuzzValues.strangeIDs + FuzzValues.invalidIDs.prefix(6)))
                add("unknown-path", pick([.GET, .POST, .PUT, .DELETE]), path, body: chance(0.5) ? poisonedBody(.batch).0 : nil)
            } else {
                let (method, path) = pick(routes)
                let other = pick([HTTPMethod.GET, .POST, .PUT, .DELETE, .PATCH].filter { $0 != method })
                add("wrong-method", other, path, body: other == .GET ? nil : poisonedBody(.batch).0, authorized: chance(0.7))
            }
        }
    }

    /// Writes without a valid write token, with well-formed bodies: only the token is wrong, so they must get 401.
    mutating func badTokens(_ n: Int) {
        let tokens: [String?] = [
            nil, "Bearer", "Bearer wrong-token-0000000000000", "bearer \(token)", "Basic dGVzdDp0ZXN0", token, "Bearer \(token)x",
            "Bearer \(token.dropLast())", "Bearer  \(token)", "Token \(token)", "Bearer \(token.uppercased())", "Bearer \"\(token)\"",
        ]
        for _ in 0..<n {
            let header = pick(tokens)
            var (method, path, context) = writeTarget()
            if chance(0.1) { (method, path, context) = (.POST, "/v1/admin/refresh?wait=true&retrain=true", .batch) }
            let a = jsonString(fresh("tk-")), b = jsonString(fresh("tk-"))
            let body: String
            switch context {
            case .batch: body = "{\"events\":[{\"type\":\"follow\",\"follower\":\(a),\"followee\":\(b)}]}"
            case .flagsRoute: body = "{\"flags\":[\"reported\"]}"
            case .single(let type):
                // A write the server would take with the right token: new users, so it would change the counts.
                switch type {
                case "user": body = "{\"id\":\(a)}"
                case "post": body = "{\"id\":\(b),\"author\":\(a)}"
                case "interaction": body = "{\"user\":\(a),\"post\":\"p0\",\"kind\":\"like\"}"
                default:
                    let fields = FuzzValues.eventFields[type]!
                    body = "{\"\(fields[0])\":\(a),\"\(fields[1])\":\(b)}"
                }
            }
            add("bad-token", method, path, body: body, authorized: false,
                headers: [("Content-Type", "application/json")] + (header.map { [("Authorization", $0)] } ?? []), expected: 401..<402)
        }
    }

    /// Writes with a valid token and a poisoned body, a wrong content type, or no body at all.
    mutating func poisonedWrites(_ n: Int) {
        for _ in 0..<n {
            let (method, path, context) = writeTarget()
            switch int(0..<20) {
            case 0:
                add("empty-body", method, path, body: chance(0.5) ? "" : nil, headers: chance(0.5) ? [("Content-Type", "application/json")] : [])
            case 1:
                let type = pick(["text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded", "", "json"])
                add("content-type", method, path, body: poisonedBody(context).0, headers: [("Content-Type", type)])
            default:
                let (body, why) = poisonedBody(context)
                add("poisoned-\(why)", method, path, body: body)
            }
        }
    }

    /// `per_item` batches whose every event is bad: 200, each item rejected, nothing written.
    mutating func perItemBatches(_ n: Int) {
        for _ in 0..<n {
            let count = int(1..<(maxBatch + 1))
            let events = (0..<count).map { _ in poisonedEvent(.batch, semantic: true).0.json }
            let body = Array("{\"mode\":\"per_item\",\"events\":[\(events.joined(separator: ","))]}".utf8)
            // A 10,000-character id can make the body too large: then the limit answers first.
            let tooLarge = body.count > maxBodyBytes
            requests.append(FuzzRequest(
                category: "per-item", method: .POST, path: "/v1/events", headers: auth + [("Content-Type", "application/json")],
                body: body, expected: tooLarge ? 413..<414 : 200..<201, perItemEvents: tooLarge ? nil : count))
        }
    }

    /// Bodies that are not JSON, or JSON of the wrong shape.
    mutating func brokenJSON(_ n: Int) {
        for _ in 0..<n {
            let (method, path, context) = writeTarget()
            let (json, _) = poisonedBody(context)
            let event = poisonedEvent(.batch).0.json
            var bytes: [UInt8]
            let what: String
            switch int(0..<7) {
            case 0:
                bytes = Array(json.utf8.prefix(int(0..<json.utf8.count)))
                what = "truncated"
            case 1:
                bytes = Array((json + pick(["}", "]", "x", ",", ",{}", "{\"a\":1}", "\u{0}", "//", "/*", "\"", "garbage", "{", "[]"])).utf8)
                what = "trailing"
            case 2:
                bytes = (0..<int(1..<300)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                what = "random-bytes"
            case 3:
                bytes = Array((pick(["x", ",", "]", "\u{0}", "'", "{{"]) + json).utf8)
                what = "leading"
            case 4:
                // Invalid UTF-8 in an added string value; the event itself stays refused.
                bytes = Array("{\"zz\":\"".utf8) + pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF]])
                    + Array("\",".utf8) + Array(json.utf8.dropFirst())
                what = "invalid-utf8"
            case 5:
                let depth = pick([600, 1_500, 2_000])
                bytes = Array(pick([
                    String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                    "{\"events\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}",
                    String(repeating: "{\"a\":", count: depth / 3) + "1" + String(repeating: "}", count: depth / 3),
                    String(repeating: "[", count: depth),
                ]).utf8)
                what = "deep"
            default:
                bytes = Array(pick([
                    "{\"events\":\(event)}", "{\"events\":[[\(event)]]}", "{\"events\":[\(event)],\"mode\":{\"atomic\":true}}", "[\(event)]",
                    "{\"events\":\(jsonString(event))}", "{\"events\":[\(event),1,null,\"x\"]}", "{\"events\":[{\"type\":\(event)}]}",
                    "\"\(event.count)\"", "123", "null", "true", "[]", "{}", "{\"events\":[]}", "{\"events\":null}", "{'type':'follow'}",
                    "{type:\"follow\"}", "{\"at\":NaN,\"type\":\"user\",\"id\":\"x\"}", "{\"at\":Infinity,\"type\":\"user\",\"id\":\"x\"}",
                    "{\"events\":[\(event)],\"mode\":\(pick(["\"ATOMIC\"", "\"all\"", "\"\"", "\"per-item\"", "1", "[]", "\"<script>\""]))}",
                ]).utf8)
                what = "shape"
            }
            requests.append(FuzzRequest(
                category: "broken-json-\(what)", method: method, path: path, headers: auth + [("Content-Type", "application/json")], body: bytes))
        }
    }

    /// Bodies over `maxBodyBytes` (with and without Content-Length) and batches over `maxBatch`.
    mutating func oversized(_ n: Int) {
        for i in 0..<n {
            if i % 2 == 0 {
                let (method, path, context) = writeTarget()
                let (json, _) = poisonedBody(context)
                let pad = maxBodyBytes + int(1..<3 * maxBodyBytes)
                let body = chance(0.5) ? String(json.dropLast()) + ",\"pad\":\"" + String(repeating: "x", count: pad) + "\"}"
                    : json + String(repeating: " ", count: pad)
                requests.append(FuzzRequest(
                    category: "oversized-body", method: method, path: path, headers: auth + [("Content-Type", "application/json")],
                    body: Array(body.utf8), chunked: chance(0.5)))
            } else {
                // Too many events; half are all well-formed, so only the limit refuses them.
                let count = maxBatch + int(1..<10)
                let poisoned = chance(0.5)
                let events = (0..<count).map { j in
                    poisoned && j == 0 ? poisonedEvent(.batch).0.json : plainEvent(pick(["user", "follow", "block", "post"]), withType: true).json
                }
                add("oversized-batch", .POST, "/v1/events", body: "{\"events\":[\(events.joined(separator: ","))]}")
            }
        }
    }

    /// Admin refreshes whose query cannot be parsed: refused before anything starts.
    mutating func badRefreshes(_ n: Int) {
        for _ in 0..<n {
            let bad = percentEncoded(pick(["maybe", "2", "yes please", "\u{0}", "truee", "-1"]))
            let query = pick(["retrain=\(bad)", "wait=\(bad)", "retrain=true&wait=\(bad)", "wait=true&retrain=\(bad)", "retrain=\(bad)&wait=\(bad)"])
            add("refresh-bad-query", .POST, "/v1/admin/refresh?\(query)", headers: [])
        }
    }
}

// MARK: - The test

@Suite(.testThreads) struct FuzzTests {
    static let maxBatch = 5
    static let maxBodyBytes = 4_096

    static func corpus(users: Int) -> [FuzzRequest] {
        var c = FuzzCorpus(seed: 0x0DB1_7F00_D5EE_D001, users: users, maxBatch: maxBatch, maxBodyBytes: maxBodyBytes, token: ServerFixture.writeToken)
        c.reads(150)
        c.unknownRoutesAndMethods(150)
        c.badTokens(140)
        c.poisonedWrites(520)
        c.perItemBatches(30)
        c.brokenJSON(300)
        c.oversized(60)
        c.badRefreshes(20)
        return c.requests
    }

    /// Why a response is wrong for its request, or nil when it is right.
    static func problem(_ request: FuzzRequest, _ response: RawResponse) -> String? {
        guard request.expected.contains(response.status) else { return "status \(response.status): \(response.text.prefix(300))" }
        guard let object = response.object else { return "status \(response.status) without a JSON body: \(response.text.prefix(200))" }
        if let n = request.perItemEvents {
            let results = object["results"] as? [[String: Any]] ?? []
            guard object["accepted"] as? Int == 0, object["rejected"] as? Int == n, results.count == n,
                  results.allSatisfy({ $0["ok"] as? Bool == false })
            else { return "per_item batch not wholly rejected: \(response.text.prefix(300))" }
            return nil
        }
        // Every refusal is the JSON error body: {"error": {"status": ..., "code": ...}}.
        let error = object["error"] as? [String: Any]
        guard error?["status"] as? Int == response.status, error?["code"] is String else {
            return "status \(response.status) without the JSON error body: \(response.text.prefix(200))"
        }
        return nil
    }

    @Test func malformedRequestsToEveryRouteGet4xxAndChangeNothing() async throws {
        let users = 150
        let f = try await ServerFixture.make(users: users, seed: 5) {
            $0.maxBatch = Self.maxBatch
            $0.maxBodyBytes = Self.maxBodyBytes
        }
        defer { f.remove() }
        let requests = Self.corpus(users: users)
        #expect(requests.count >= 1_000)
        let before = try await f.fingerprint()

        try await f.withServer { c in
            let base = "http://127.0.0.1:\(c.port)"
            try await withHTTPClient(connections: 4) { client in
                let versionBefore = try await client.send(.GET, base + "/ready").object?["version"] as? Int
                // Four senders, each taking every fourth request; results come back by index.
                let outcomes = try await withThrowingTaskGroup(of: [(Int, Int?, String?)].self) { group in
                    for lane in 0..<4 {
                        group.addTask {
                            var out: [(Int, Int?, String?)] = []
                            for i in stride(from: lane, to: requests.count, by: 4) {
                                let r = requests[i]
                                do {
                                    let response = try await client.send(r.method, base + r.path, headers: r.headers, body: r.body, chunked: r.chunked)
                                    out.append((i, response.status, Self.problem(r, response)))
                                } catch {
                                    out.append((i, nil, "no response: \(error)"))
                                }
                            }
                            return out
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }.sorted { $0.0 < $1.0 }
                }
                let failures = outcomes.filter { $0.2 != nil }
                let report = failures.prefix(12).map { "#\($0.0) \(requests[$0.0])\n    -> \($0.2!)" }.joined(separator: "\n")
                #expect(failures.isEmpty, "\(failures.count) of \(requests.count) requests answered wrongly; the first:\n\(report)")

                // The corpus reaches each kind of refusal.
                let statuses = Set(outcomes.compactMap(\.1))
                for expected in [400, 401, 404, 413, 415, 422] {
                    #expect(statuses.contains(expected), "no request got \(expected); statuses seen: \(statuses.sorted())")
                }

                #expect(try await client.send(.GET, base + "/health").status == 200)
                let ready = try await client.send(.GET, base + "/ready")
                #expect(ready.status == 200 && ready.object?["version"] as? Int == versionBefore)
                #expect(try await client.send(.GET, base + "/v1/users/u1/follow-recommendations?k=5").status == 200)
            }
        }
        #expect(try await f.fingerprint() == before)
    }
}
