import Foundation
import OrbitCore
import OrbitEngine
import OrbitRecommend

/// A recommended user as the API answers it.
struct UserItem: Encodable {
    var user: String
    var source: String
    var reason: String
    var score: Float?
    /// With `explain` and the ranking stage: the features that moved the score most.
    var features: [Contribution]?

    struct Contribution: Encodable {
        var feature: String
        var contribution: Float
    }
}

extension UserItem {
    init(_ r: UserRecommendation, names: Names, explain: Bool) {
        user = names.user(r.user)
        source = r.source.rawValue
        reason = r.reason(name: names.user)
        score = explain ? r.score : nil
        features = explain && !r.contributions.isEmpty ? r.contributions.map { Contribution(feature: $0.feature, contribution: $0.value) } : nil
    }
}

struct FollowRecommendations: Encodable {
    var user: String
    var coldStart: Bool
    var items: [UserItem]
    /// With `explain`: candidates each filter removed, and slots per source.
    var filtered: [String: Int]?
    var sources: [String: Int]?
    var version: Int64
}

extension FollowRecommendations {
    init(id: String, answer: FollowAnswer, state s: LiveState, explain: Bool) {
        user = id
        coldStart = answer.coldStart
        let names = s.names
        items = answer.items.map { UserItem($0, names: names, explain: explain) }
        version = s.overlay.version
        if explain {
            filtered = Dictionary(uniqueKeysWithValues: answer.filtered.counts.map { ($0.key.rawValue, $0.value) })
            sources = Dictionary(uniqueKeysWithValues: answer.sources.map { ($0.key.rawValue, $0.value) })
        }
    }
}

/// `GET /v1/users/{id}/similar`.
struct SimilarAccountsResponse: Encodable {
    struct Item: Encodable {
        var user: String
        var reason: String
        var score: Float?
        var followerCosine: Float?
        var embeddingCosine: Float?
        var sharedFollowers: Int
    }
    var user: String
    var items: [Item]

    init(id: String, items: [SimilarAccount], names: Names, explain: Bool) {
        user = id
        self.items = items.map { a in
            Item(user: names.user(a.user),
                 reason: "followed by \(a.sharedFollowers) of @\(id)'s \(a.sampledFollowers) sampled followers",
                 score: explain ? a.score : nil, followerCosine: explain ? a.followerCosine : nil,
                 embeddingCosine: explain ? a.embeddingCosine : nil, sharedFollowers: a.sharedFollowers)
        }
    }
}

/// `GET /v1/users/{id}/dismissals`.
struct DismissalsResponse: Encodable {
    var user: String
    var candidates: [String]
}

struct PostItem: Encodable {
    var post: String
    var author: String
    var source: String
    var reason: String
    var score: Float?
}

extension PostItem {
    init(_ p: PostRecommendation, names: Names, explain: Bool) {
        post = names.post(p.post)
        author = names.user(p.author)
        source = p.source.rawValue
        reason = p.reason(name: names.user)
        score = explain ? p.score : nil
    }
}

struct PostRecommendations: Encodable {
    var user: String
    var items: [PostItem]
}

struct FeedEntry: Encodable {
    /// "post" or "user".
    var type: String
    var post: PostItem?
    var user: UserItem?
}

struct Feed: Encodable {
    var user: String
    var items: [FeedEntry]
}

struct Leaderboard: Encodable {
    struct Followed: Encodable { var user: String; var followers: Int }
    struct Recent: Encodable { var user: String; var newFollowers: Int }
    struct HotAuthor: Encodable { var user: String; var hotPosts: Int; var score: Float }
    struct HotPost: Encodable { var post: String; var author: String; var score: Float }

    var mostFollowed: [Followed]
    var recentlyFollowed: [Recent]
    var recentDays: Int
    var hotAuthors: [HotAuthor]
    var hotPosts: [HotPost]

    init(_ l: Leaderboards, k: Int, state s: LiveState) {
        let names = s.names
        // The lists were built with the snapshot's flags; a user flagged since (unlisted, say) leaves them at once.
        let view = s.view
        func listed(_ u: UserIndex) -> Bool { view.flags(of: u).isEmpty }
        mostFollowed = l.mostFollowed.lazy.filter { listed($0.user) }.prefix(k).map { Followed(user: names.user($0.user), followers: $0.followers) }
        recentlyFollowed = l.recentlyFollowed.lazy.filter { listed($0.user) }.prefix(k)
            .map { Recent(user: names.user($0.user), newFollowers: $0.newFollowers) }
        recentDays = l.recentDays
        hotAuthors = l.hotAuthors.lazy.filter { listed($0.user) }.prefix(k)
            .map { HotAuthor(user: names.user($0.user), hotPosts: $0.hotPosts, score: $0.score) }
        let author = s.engine.snapshot.postAuthor
        hotPosts = l.hot.posts.lazy.filter { listed(author[Int($0.post)]) }.prefix(k).map {
            HotPost(post: names.post($0.post), author: names.user(author[Int($0.post)]), score: $0.score)
        }
    }
}

struct UserSummary: Encodable {
    struct Engaged: Encodable {
        var author: String
        var interactions: Int
        var signals: [String]
        var lastAt: Int64
    }
    var id: String
    var followees: Int
    /// Followers as of the snapshot (the overlay is indexed by follower only).
    var followersAtSnapshot: Int
    var flags: [String]
    var newSinceSnapshot: Bool
    var knownToFollowModel: Bool
    var coldStart: Bool
    var engagedAuthors: [Engaged]

    init(id: String, user u: UserIndex, state s: LiveState) {
        let view = s.view
        self.id = id
        followees = view.followeeCount(of: u)
        followersAtSnapshot = Int(u) < s.engine.snapshot.userCount ? s.engine.snapshot.followers.degree(u) : 0
        let f = view.flags(of: u)
        flags = UserFlags.all.filter { f.contains($0.0) }.map(\.1)
        newSinceSnapshot = Int(u) >= s.engine.snapshot.userCount
        knownToFollowModel = s.engine.follow.scorer?.canScore(user: u) ?? false
        coldStart = !view.hasBehaviour(u)
        let signalNames: [(EngagementSignals, String)] = [
            (.authorClicked, "author_click"), (.commented, "comment"), (.reposted, "repost"), (.liked, "like"), (.viewed, "view"),
        ]
        let names = s.names
        engagedAuthors = view.engagements(of: u)
            .sorted { ($0.signals.priorityKey, $0.count, $0.lastTime) > ($1.signals.priorityKey, $1.count, $1.lastTime) }
            .prefix(20)
            .map { e in
                Engaged(author: names.user(e.author), interactions: Int(e.count),
                        signals: signalNames.filter { e.signals.contains($0.0) }.map(\.1), lastAt: e.lastTime)
            }
    }
}

struct ModelStatusReport: Encodable {
    struct SnapshotInfo: Encodable {
        var version: Int64
        var users: Int
        var follows: Int
        var posts: Int
        /// Interactions of every kind with the snapshot's posts.
        var interactions: Int
        var builtAt: Date
        var ageSeconds: Double
        /// The time recommendations are made at (the latest event in the snapshot).
        var now: Int64
    }
    struct OverlayInfo: Encodable {
        var version: Int64
        var changes: Int
        var users: Int
        var posts: Int
        var needsRebuild: Bool
    }
    var snapshot: SnapshotInfo
    var overlay: OverlayInfo
    var followModel: ModelStatus?
    var relationIndex: ModelStatus?
    var ranker: ModelStatus?
    var clickModel: ModelStatus?
    var refreshing: Bool
    var lastRefresh: RefreshReport?

    init(state s: LiveState, refreshing: Bool, lastRefresh: RefreshReport?) {
        let e = s.engine
        snapshot = SnapshotInfo(
            version: e.snapshot.version, users: e.snapshot.userCount, follows: e.snapshot.followees.edgeCount,
            posts: e.snapshot.postCount, interactions: e.snapshot.postKindCounts.reduce(0) { $0 + Int($1) }, builtAt: e.builtAt, ageSeconds: Date().timeIntervalSince(e.builtAt), now: e.now)
        overlay = OverlayInfo(version: s.overlay.version, changes: s.overlay.changeCount, users: s.overlay.userCount,
                              posts: s.overlay.postCount, needsRebuild: s.needsRebuild)
        followModel = e.models.followStatus
        clickModel = e.models.clickStatus
        relationIndex = e.models.relationsStatus
        ranker = e.models.rankerStatus
        self.refreshing = refreshing
        self.lastRefresh = lastRefresh
    }
}

// MARK: the recommendation answers write themselves (keys in sorted order, nil members left out)

extension UserItem: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            if let features {
                w.key("features")
                w.array(features) { w, f in
                    w.object { w in
                        w.key("contribution"); w.float(f.contribution)
                        w.key("feature"); w.string(f.feature)
                    }
                }
            }
            w.key("reason"); w.string(reason)
            if let score { w.key("score"); w.float(score) }
            w.key("source"); w.string(source)
            w.key("user"); w.string(user)
        }
    }
}

extension PostItem: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("author"); w.string(author)
            w.key("post"); w.string(post)
            w.key("reason"); w.string(reason)
            if let score { w.key("score"); w.float(score) }
            w.key("source"); w.string(source)
        }
    }
}

extension FollowRecommendations: JSONWritable {
    func write(to w: inout JSONWriter) {
        func counts(_ d: [String: Int], _ w: inout JSONWriter) {
            w.object { w in
                for (k, v) in d.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    w.key(k); w.int(v)
                }
            }
        }
        w.object { w in
            w.key("coldStart"); w.bool(coldStart)
            if let filtered { w.key("filtered"); counts(filtered, &w) }
            w.key("items"); w.array(items) { w, item in item.write(to: &w) }
            if let sources { w.key("sources"); counts(sources, &w) }
            w.key("user"); w.string(user)
            w.key("version"); w.int(version)
        }
    }
}

extension PostRecommendations: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("items"); w.array(items) { w, item in item.write(to: &w) }
            w.key("user"); w.string(user)
        }
    }
}

extension FeedEntry: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            if let post { w.key("post"); post.write(to: &w) }
            w.key("type"); w.string(type)
            if let user { w.key("user"); user.write(to: &w) }
        }
    }
}

extension Feed: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("items"); w.array(items) { w, item in item.write(to: &w) }
            w.key("user"); w.string(user)
        }
    }
}
