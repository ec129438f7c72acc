import OrbitCore

/// Where a recommended user came from; the order of SPEC §2 is the order of the cases.
public enum SourceKind: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case popular = "popular"
    case popularRecent = "popular_recent"
    case hotAuthors = "hot_authors"
    case engagedAuthors = "engaged_authors"
    case modelSimple = "neumf_simple"
    case modelComplex = "neumf_complex"
    /// NeuMF scoring a bounded neighbourhood (graph candidates and popular users) instead of everyone.
    case modelGraph = "neumf_graph"
    case followeesOfFollowees = "followees_of_followees"
    case coFollowers = "co_followers"
    /// Users who follow the user and are not followed back.
    case followsYou = "follows_you"
    /// Personalised PageRank from the user over the follow graph.
    case personalizedPageRank = "personalized_pagerank"
    /// Accounts like the user's latest follows ("because you recently followed @x").
    case similarToRecentFollows = "similar_to_recent_follows"
    /// Accounts the user's followees followed in the last days.
    case networkRecentFollows = "network_recent_follows"

    public var description: String { rawValue }
}

/// The facts behind a recommendation, from which its human reason is written.
public enum Evidence: Hashable, Sendable {
    case popular(followers: Int)
    case popularRecent(newFollowers: Int, days: Int)
    case hotAuthor(posts: Int)
    case engaged(signals: EngagementSignals, interactions: Int, lastTime: Timestamp)
    case model(probability: Float)
    /// Found through similar follow edges (complex logic): `edges` similar edges led here.
    case similarEdges(edges: Int, probability: Float)
    case followedByFollowees(count: Int)
    case coFollowed(count: Int)
    case followsYou
    /// Reached by many short follow paths from the user (personalised PageRank).
    case closeInGraph
    /// Like `account`, which the user followed recently: `sharedFollowers` of its sampled followers follow it.
    case similarTo(account: UserIndex, sharedFollowers: Int)
    /// `count` of the user's followees followed it within the last `days`.
    case followedRecentlyByFollowees(count: Int, days: Int)
}

/// One candidate user proposed by a source, with the score it was ranked by.
public struct Candidate: Hashable, Sendable {
    public var user: UserIndex
    public var score: Float
    public var source: SourceKind
    public var evidence: Evidence

    public init(user: UserIndex, score: Float, source: SourceKind, evidence: Evidence) {
        self.user = user
        self.score = score
        self.source = source
        self.evidence = evidence
    }
}

/// A recommended user as answered to a client: who, why, and from which source.
public struct UserRecommendation: Hashable, Sendable {
    public var user: UserIndex
    public var score: Float
    public var source: SourceKind
    public var evidence: Evidence
    /// With the ranking stage: the features that moved this item's score most, largest first
    /// (XGBoost's per-feature contributions); empty otherwise.
    public var contributions: [FeatureContribution] = []
    /// Impression discounting's multiplier of this item's place weight, when it was demoted.
    public var demotion: Double? = nil

    public init(user: UserIndex, score: Float, source: SourceKind, evidence: Evidence, contributions: [FeatureContribution] = []) {
        self.user = user
        self.score = score
        self.source = source
        self.evidence = evidence
        self.contributions = contributions
    }

    /// A short human reason such as "you commented on 2 posts by @a"; `name` renders a user.
    public func reason(name: (UserIndex) -> String) -> String {
        let who = "@" + name(user)
        switch evidence {
        case .popular(let n): return "popular: \(n) followers"
        case .popularRecent(let n, let days): return "popular this \(days <= 7 ? "week" : "month"): \(n) new followers"
        case .hotAuthor(let posts): return "writes hot posts (\(posts) trending)"
        case .engaged(let signals, let n, _):
            var acts: [String] = []
            if signals.contains(.authorClicked) { acts.append("visited \(who)'s profile") }
            if signals.contains(.commented) { acts.append("commented on posts by \(who)") }
            if signals.contains(.reposted) { acts.append("reposted \(who)") }
            if signals.contains(.liked) { acts.append("liked posts by \(who)") }
            if acts.isEmpty { acts.append("read posts by \(who)") }
            return "you " + acts.joined(separator: ", ") + " (\(n) interaction\(n == 1 ? "" : "s"))"
        case .model(let p): return "people like you follow \(who) (match \(Int((p * 100).rounded()))%)"
        case .similarEdges(let e, _): return "similar to \(e) follows in your network"
        case .followedByFollowees(let n): return "followed by \(n) \(n == 1 ? "person" : "people") you follow"
        case .coFollowed(let n): return "followed by \(n) \(n == 1 ? "person" : "people") who follow the same accounts as you"
        case .followsYou: return "\(who) follows you"
        case .closeInGraph: return "close to you in the follow graph"
        case .similarTo(let a, let n):
            return "because you recently followed @\(name(a)): followed by \(n) of @\(name(a))'s followers"
        case .followedRecentlyByFollowees(let n, let days):
            return "\(n) \(n == 1 ? "person" : "people") you follow followed \(who) \(days <= 7 ? "this week" : "in the last \(days) days")"
        }
    }
}

/// How much one feature moved a ranked item's score (positive: towards the top).
public struct FeatureContribution: Hashable, Sendable {
    public var feature: String
    public var value: Float

    public init(feature: String, value: Float) {
        self.feature = feature
        self.value = value
    }
}
