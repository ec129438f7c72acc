/// A directed follow edge: `follower` follows `followee`. Both sides live in one index space.
public struct Follow: Hashable, Sendable {
    public var follower: UserIndex
    public var followee: UserIndex
    public var createdAt: Timestamp
    /// The reference's optional `rank` column: kept in the store, unused by the models.
    public var rank: Int32?

    public init(follower: UserIndex, followee: UserIndex, createdAt: Timestamp = 0, rank: Int32? = nil) {
        self.follower = follower
        self.followee = followee
        self.createdAt = createdAt
        self.rank = rank
    }
}

/// `user` blocked `blocked`: `blocked` is never recommended to `user`.
public struct Block: Hashable, Sendable {
    public var user: UserIndex
    public var blocked: UserIndex
    public var createdAt: Timestamp

    public init(user: UserIndex, blocked: UserIndex, createdAt: Timestamp = 0) {
        self.user = user
        self.blocked = blocked
        self.createdAt = createdAt
    }
}

/// Why a user dismissed a suggestion; raw values are stored on disk.
public enum DismissalReason: UInt8, CaseIterable, Sendable {
    case notInterested = 0
    case dontKnow = 1
    case spam = 2
    case other = 3

    /// The name used in files and the API.
    public var name: String {
        switch self {
        case .notInterested: "not_interested"
        case .dontKnow: "dont_know"
        case .spam: "spam"
        case .other: "other"
        }
    }

    /// Parses the file/API name of a reason; `nil` for anything else.
    public init?(name: some StringProtocol) {
        guard let r = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = r
    }
}

/// A post written by `author`.
public struct Post: Hashable, Sendable {
    public var index: PostIndex
    public var author: UserIndex
    public var createdAt: Timestamp

    public init(index: PostIndex, author: UserIndex, createdAt: Timestamp) {
        self.index = index
        self.author = author
        self.createdAt = createdAt
    }
}

/// One thing a user did to a post: viewed it, clicked it, liked it, and so on.
public struct Interaction: Hashable, Sendable {
    /// What the user did. Raw values are stable: they are stored on disk.
    public enum Kind: UInt8, CaseIterable, Sendable, CustomStringConvertible {
        case view = 0
        case click = 1
        case like = 2
        case repost = 3
        case comment = 4
        /// Clicked the post's author.
        case authorClick = 5

        /// The name used in files and the API.
        public var name: String {
            switch self {
            case .view: "view"
            case .click: "click"
            case .like: "like"
            case .repost: "repost"
            case .comment: "comment"
            case .authorClick: "author_click"
            }
        }

        public var description: String { name }

        /// Parses the file/API name of a kind; `nil` for anything else.
        public init?(name: some StringProtocol) {
            switch name {
            case "view": self = .view
            case "click": self = .click
            case "like": self = .like
            case "repost": self = .repost
            case "comment": self = .comment
            case "author_click": self = .authorClick
            default: return nil
            }
        }

        /// The SPEC §2.2 signal this kind contributes to the engaged-authors key.
        public var signal: EngagementSignals {
            switch self {
            case .view: .viewed
            case .click: .viewed  // a click on the post is engagement but not one of A/C/R/L
            case .like: .liked
            case .repost: .reposted
            case .comment: .commented
            case .authorClick: .authorClicked
            }
        }
    }

    public var user: UserIndex
    public var post: PostIndex
    public var kind: Kind
    public var timestamp: Timestamp

    public init(user: UserIndex, post: PostIndex, kind: Kind, timestamp: Timestamp) {
        self.user = user
        self.post = post
        self.kind = kind
        self.timestamp = timestamp
    }
}

/// Moderation, activity and privacy flags of a user; any of them keeps the user out of other
/// users' suggestions and the leaderboards. Only `unlisted` leaves the user's own posts in their
/// followers' feeds: it is the user's choice not to be suggested, not a sanction.
public struct UserFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let inactive = UserFlags(rawValue: 1 << 0)
    public static let blacklisted = UserFlags(rawValue: 1 << 1)
    public static let reported = UserFlags(rawValue: 1 << 2)
    /// The user opted out of being suggested to others (SPEC §2.4); their own suggestions keep working.
    public static let unlisted = UserFlags(rawValue: 1 << 3)

    /// The flags a moderator sets: posts of such users are kept out of every feed too.
    public static let sanctions: UserFlags = [.inactive, .blacklisted, .reported]

    public static let all: [(UserFlags, String)] = [
        (.inactive, "inactive"), (.blacklisted, "blacklisted"), (.reported, "reported"), (.unlisted, "unlisted"),
    ]

    public var description: String {
        let names = Self.all.filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// Parses a comma-separated list such as `inactive,reported`; `nil` names an unknown flag.
    public init?(names: some StringProtocol) {
        var flags = UserFlags()
        for part in names.split(separator: ",") {
            let name = part.trimmingSpaces()
            if name.isEmpty || name == "none" { continue }
            guard let flag = Self.all.first(where: { $0.1 == name })?.0 else { return nil }
            flags.insert(flag)
        }
        self = flags
    }
}

/// The SPEC §2.2 signals a user gave an author, as bits of the ranking key.
///
/// `A·8 + C·4 + R·2 + L` orders authors; `viewed` (bit 4) only records that there was a view
/// and never raises an author above one with any of A, C, R, L.
public struct EngagementSignals: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let liked = EngagementSignals(rawValue: 1 << 0)
    public static let reposted = EngagementSignals(rawValue: 1 << 1)
    public static let commented = EngagementSignals(rawValue: 1 << 2)
    public static let authorClicked = EngagementSignals(rawValue: 1 << 3)
    public static let viewed = EngagementSignals(rawValue: 1 << 4)

    /// The 4-bit key `A·8 + C·4 + R·2 + L`: higher ranks first; 0 means viewed (or clicked) only.
    public var priorityKey: Int { Int(rawValue & 0x0F) }

    /// Letters in SPEC order, e.g. `ACL`; `V` when only viewed.
    public var description: String {
        var s = ""
        if contains(.authorClicked) { s += "A" }
        if contains(.commented) { s += "C" }
        if contains(.reposted) { s += "R" }
        if contains(.liked) { s += "L" }
        return s.isEmpty ? "V" : s
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (no Foundation needed).
    @inlinable
    public func trimmingSpaces() -> Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return Substring(s)
    }
}
