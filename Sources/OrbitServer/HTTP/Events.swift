import Foundation
import OrbitCore
import OrbitStore

/// One event as clients send it, e.g. `{"type": "follow", "follower": "a", "followee": "b", "at": 1700000000}`.
/// Built from a body checked against its `BodyShape` (`init(checked:)`); `event(at:now:)` then
/// makes the store event, refusing what the data forbids (a user naming themselves).
struct EventInput: Sendable {
    var type: String?
    var id: String?
    var follower: String?
    var followee: String?
    var user: String?
    var blocked: String?
    var author: String?
    var post: String?
    var kind: String?
    var flags: [String]?
    var candidate: String?
    var reason: String?
    var surface: String?
    var at: Int64?

    /// The event types and the fields each needs, as the API and its OpenAPI document name them.
    static let types: [(name: String, fields: [String])] = [
        ("user", ["id"]), ("follow", ["follower", "followee"]), ("unfollow", ["follower", "followee"]),
        ("block", ["user", "blocked"]), ("unblock", ["user", "blocked"]), ("post", ["id", "author"]),
        ("interaction", ["user", "post", "kind"]), ("flags", ["user", "flags"]),
        ("dismiss", ["user", "candidate"]), ("undismiss", ["user", "candidate"]), ("impression", ["user", "candidate"]),
    ]

    /// The surface an impression is recorded under when the client names none.
    static let defaultSurface = "default"

    /// The store event, or a 400 that names the field (`where` is prefixed with `path`).
    func event(at path: String, now: Timestamp) throws(APIError) -> Event {
        func field(_ name: String, _ value: String?) throws(APIError) -> String {
            guard let value else { throw APIError.invalid("is required for a \(type ?? "") event", at: join(path, name)) }
            try Validate.id(value, at: join(path, name))
            return value
        }
        let t = at ?? now
        guard TimestampRange.contains(t) else {
            throw APIError.invalid("must be Unix seconds between 0 and \(TimestampRange.max)", at: join(path, "at"))
        }
        switch type {
        case "user": return .user(id: try field("id", id), createdAt: t)
        case "follow", "unfollow":
            let a = try field("follower", follower), b = try field("followee", followee)
            guard a != b else { throw Self.selfReference("a user cannot follow themselves", at: join(path, "followee")) }
            return type == "follow" ? .follow(follower: a, followee: b, at: t) : .unfollow(follower: a, followee: b, at: t)
        case "block", "unblock":
            let a = try field("user", user), b = try field("blocked", blocked)
            guard a != b else { throw Self.selfReference("a user cannot block themselves", at: join(path, "blocked")) }
            return type == "block" ? .block(user: a, blocked: b, at: t) : .unblock(user: a, blocked: b, at: t)
        case "post": return .post(id: try field("id", id), author: try field("author", author), at: t)
        case "interaction":
            let u = try field("user", user), p = try field("post", post)
            guard let kind else { throw APIError.invalid("is required for an interaction event", at: join(path, "kind")) }
            guard let k = Interaction.Kind(name: kind) else {
                throw APIError.invalid(
                    "unknown interaction kind \"\(kind.prefix(40))\"; one of \(Interaction.Kind.allCases.map(\.name).joined(separator: ", "))",
                    at: join(path, "kind"))
            }
            return .interaction(user: u, post: p, kind: k, at: t)
        case "flags":
            let u = try field("user", user)
            guard let flags else { throw APIError.invalid("is required for a flags event (an empty list clears them)", at: join(path, "flags")) }
            var set: UserFlags = []
            for (i, name) in flags.enumerated() {
                guard let f = UserFlags.all.first(where: { $0.1 == name })?.0 else {
                    throw APIError.invalid(
                        "unknown flag \"\(name.prefix(40))\"; one of \(UserFlags.all.map(\.1).joined(separator: ", "))",
                        at: join(path, "flags[\(i)]"))
                }
                set.insert(f)
            }
            return .setFlags(user: u, flags: set, at: t)
        case "dismiss", "undismiss", "impression":
            let u = try field("user", user), c = try field("candidate", candidate)
            guard u != c else { throw Self.selfReference("a user is never suggested to themselves", at: join(path, "candidate")) }
            if type == "undismiss" { return .undismiss(user: u, candidate: c, at: t) }
            if type == "impression" {
                let surface = self.surface ?? Self.defaultSurface
                try Validate.id(surface, at: join(path, "surface"))
                return .impression(user: u, candidate: c, surface: surface, at: t)
            }
            var r = DismissalReason.notInterested
            if let reason {
                guard let parsed = DismissalReason(name: reason) else {
                    throw APIError.invalid(
                        "unknown reason \"\(reason.prefix(40))\"; one of \(DismissalReason.allCases.map(\.name).joined(separator: ", "))",
                        at: join(path, "reason"))
                }
                r = parsed
            }
            return .dismiss(user: u, candidate: c, reason: r, at: t)
        case nil:
            throw APIError.invalid("is required", at: join(path, "type"))
        case let other?:
            throw APIError.invalid(
                "unknown event type \"\(other.prefix(40))\"; one of \(Self.types.map(\.name).joined(separator: ", "))",
                at: join(path, "type"))
        }
    }

    private func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// A well-formed event that names the same user twice: 422, as the document's schemas cannot
    /// say that two fields differ (400 is kept for requests that do not match the document).
    static func selfReference(_ message: String, at location: String) -> APIError {
        APIError(.unprocessableContent, "self_reference", message, at: location)
    }
}

/// Suggestions a client showed a user: `{"user": "a", "candidates": ["b", "c"], "surface": "home", "at": 1700000000}`.
struct ImpressionsInput: Sendable {
    var user: String
    var candidates: [String]
    var surface: String?
    var at: Int64?

    /// One impression event per candidate.
    func events(now: Timestamp) throws(APIError) -> [Event] {
        guard !candidates.isEmpty else { throw APIError.invalid("must hold at least one candidate", at: "candidates") }
        var out: [Event] = []
        for (i, c) in candidates.enumerated() {
            let e = EventInput(type: "impression", user: user, candidate: c, surface: surface, at: at)
            do { out.append(try e.event(at: "", now: now)) } catch {
                // Name the candidate's place in the list rather than the single event's field.
                var named = error
                if error.location == "candidate" { named.location = "candidates[\(i)]" }
                throw named
            }
        }
        return out
    }
}

/// What a write answered: the store version that holds it (every later read sees it).
struct WriteResult: Codable, Sendable {
    struct Item: Codable, Sendable {
        var index: Int
        var ok: Bool
        var error: APIError.Body.Detail?
    }
    var version: Int64
    var accepted: Int
    var rejected: Int
    var results: [Item]?
}

/// Checks shared by every route.
enum Validate {
    /// The longest id, in Unicode scalars (JSON Schema's `maxLength` counts the same way).
    static let maxIDLength = 256

    /// Characters no id may hold: whitespace, control and format characters and noncharacters of
    /// the Basic Multilingual Plane (a Swift string holds no lone surrogate: JSON's are refused
    /// when the body is decoded, and a surrogate range would make the pattern unusable to
    /// validators built on Rust's regex). One table for the check and for the
    /// pattern the OpenAPI document publishes, so a client's validator and the server agree.
    static let refused: [ClosedRange<UInt32>] = [
        0x0000...0x0020, 0x007F...0x00A0, 0x00AD...0x00AD, 0x0600...0x0605, 0x061C...0x061C, 0x06DD...0x06DD,
        0x070F...0x070F, 0x0890...0x0891, 0x08E2...0x08E2, 0x1680...0x1680, 0x180E...0x180E, 0x2000...0x200F,
        0x2028...0x202F, 0x205F...0x206F, 0x3000...0x3000, 0xFEFF...0xFEFF, 0xFFF9...0xFFFB,
        0xFFFE...0xFFFF,
    ]

    /// The id pattern as a regular expression (ECMA-262 and Python `re` both read `\uXXXX` ranges).
    static let idPattern: String = {
        func u(_ v: UInt32) -> String { "\\u" + String(format: "%04X", v) }
        return "^[^" + refused.map { $0.lowerBound == $0.upperBound ? u($0.lowerBound) : u($0.lowerBound) + "-" + u($0.upperBound) }.joined() + "]+$"
    }()

    nonisolated(unsafe) static let idSchema: [String: Any] = [
        "type": "string", "minLength": 1, "maxLength": maxIDLength, "pattern": idPattern,
        "description": "An external id: 1 to \(maxIDLength) characters, no whitespace, control or format characters",
    ]

    /// An id is 1…256 Unicode scalars with none of `refused`.
    static func id(_ s: String, at location: String) throws(APIError) {
        guard !s.isEmpty else { throw APIError.invalid("must not be empty", at: location) }
        var n = 0
        for scalar in s.unicodeScalars {
            n += 1
            if refused.contains(where: { $0.contains(scalar.value) }) {
                throw APIError.invalid(
                    "contains a whitespace, control or format character (U+\(String(format: "%04X", scalar.value)))", at: location)
            }
        }
        guard n <= maxIDLength else { throw APIError.invalid("is longer than \(maxIDLength) characters", at: location) }
    }
}
