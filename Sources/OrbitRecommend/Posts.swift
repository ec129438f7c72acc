import OrbitCore

/// Why a post is in a user's browse pool.
public enum PostSource: String, CaseIterable, Sendable, Codable {
    case followee
    case engagedAuthor = "engaged_author"
    case hot
}

/// A post recommended to a user, with the probability or score it was ranked by and its reason.
public struct PostRecommendation: Hashable, Sendable {
    public var post: PostIndex
    public var author: UserIndex
    public var score: Float
    public var source: PostSource
    /// For engaged authors: the signals the user gave the author.
    public var signals: EngagementSignals

    public func reason(name: (UserIndex) -> String) -> String {
        switch source {
        case .followee: return "from @\(name(author)), whom you follow"
        case .hot: return "popular now"
        case .engagedAuthor:
            if signals.contains(.commented) { return "you commented on posts by @\(name(author))" }
            if signals.contains(.liked) { return "you liked posts by @\(name(author))" }
            if signals.contains(.reposted) { return "you reposted @\(name(author))" }
            if signals.contains(.authorClicked) { return "you visited @\(name(author))'s profile" }
            return "you read posts by @\(name(author))"
        }
    }
}

/// Predicts the probability that a user clicks a post: what ranks the browse pool.
public protocol PostScorer: Sendable {
    /// Probabilities that `user` clicks each post; must handle posts with no interactions yet.
    func clickProbabilities(user: UserIndex, posts: [PostIndex], view: LiveView) -> [Float]
}

/// Limits of a user's browse pool and of its ranking.
public struct BrowseConfig: Sendable, Codable, Equatable {
    /// Posts older than this (seconds before now) are not in the pool.
    public var maxAge: Int64 = 7 * 86_400
    /// Recent posts taken per followee, and followees read.
    public var perAuthor = 5
    public var maxFollowees = 500
    /// Engaged authors (best first by the SPEC §2.2 key) whose recent posts join the pool.
    public var engagedAuthors = 20
    /// Hot posts considered.
    public var hotPosts = 300
    /// No more than this many consecutive posts by the same author in a ranked list.
    public var maxConsecutiveSameAuthor = 2
    public init() {}
}

/// Builds and ranks a user's browse pool (SPEC §3): recent unseen posts from followees, engaged
/// authors and hot posts, with blocked, flagged and own posts removed.
public struct PostRecommender: Sendable {
    public let view: LiveView
    public let hot: HotPosts
    public let now: Timestamp
    public var config: BrowseConfig
    public let scorer: (any PostScorer)?
    public var hotConfig = HotConfig()

    public init(view: LiveView, hot: HotPosts, now: Timestamp, config: BrowseConfig = BrowseConfig(), scorer: (any PostScorer)? = nil) {
        self.view = view
        self.hot = hot
        self.now = now
        self.config = config
        self.scorer = scorer
    }

    /// An author whose posts may be shown to `user`: not the user, not blocked, not sanctioned. An
    /// unlisted author's posts still reach followers and engaged readers, but not the hot list
    /// (`listedOnly`), which is a leaderboard.
    func allowsAuthor(_ a: UserIndex, for user: UserIndex, listedOnly: Bool = false) -> Bool {
        guard a != user, !view.hasBlocked(user, a) else { return false }
        let f = view.flags(of: a)
        return listedOnly ? f.isEmpty : f.isDisjoint(with: .sanctions)
    }

    /// The pool: candidate posts with the source that brought each (first source wins).
    public func pool(for user: UserIndex) -> [(post: PostIndex, source: PostSource, signals: EngagementSignals)] {
        var out: [(PostIndex, PostSource, EngagementSignals)] = []
        var seen = Set<PostIndex>()
        let s = view.snapshot
        let since = now - config.maxAge
        func addRecent(of author: UserIndex, _ source: PostSource, _ signals: EngagementSignals) {
            guard allowsAuthor(author, for: user) else { return }
            var taken = 0
            // Post indices follow creation order, so the newest are at the end of the row.
            for p in s.postsByAuthor.row(author).reversed() {
                if taken >= config.perAuthor || s.postCreatedAt[Int(p)] < since { break }
                if s.postCreatedAt[Int(p)] > now || view.hasSeen(user, post: p) { continue }
                if seen.insert(p).inserted { out.append((p, source, signals)); taken += 1 }
            }
            for (p, info) in view.overlay.newPosts where info.author == author && !view.hasSeen(user, post: p) {
                if seen.insert(p).inserted { out.append((p, source, signals)) }
            }
        }
        for f in view.followees(of: user).prefix(config.maxFollowees) { addRecent(of: f, .followee, []) }
        let engaged = view.engagements(of: user).sorted(by: EngagedAuthorsSource.ranksBefore)
        for e in engaged.prefix(config.engagedAuthors) { addRecent(of: e.author, .engagedAuthor, e.signals) }
        for (p, _) in hot.posts.prefix(config.hotPosts) {
            let a = s.postAuthor[Int(p)]
            guard allowsAuthor(a, for: user, listedOnly: true), !view.hasSeen(user, post: p), seen.insert(p).inserted else { continue }
            out.append((p, .hot, []))
        }
        return out
    }

    /// The top `k` posts of the pool, by click probability when a model is there (hot score
    /// otherwise), with the diversity rule applied.
    public func recommend(user: UserIndex, k: Int) -> [PostRecommendation] {
        let pool = pool(for: user)
        guard !pool.isEmpty, k > 0 else { return [] }
        let s = view.snapshot
        let scores: [Float]
        if let scorer {
            scores = scorer.clickProbabilities(user: user, posts: pool.map(\.post), view: view)
        } else {
            scores = pool.map { item in
                let p = Int(item.post)
                guard p < s.postCount else { return 1 }  // brand new: as hot as can be
                var e: Float = 1
                for kind in 0..<Snapshot.kindCount { e += hotConfig.weights[kind] * Float(s.postKindCounts[p * Snapshot.kindCount + kind]) }
                return HotPosts.score(engagement: e, createdAt: s.postCreatedAt[p], now: now, config: hotConfig)
            }
        }
        let ranked = pool.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.map { i in
            PostRecommendation(
                post: pool[i].post, author: view.author(of: pool[i].post) ?? -1, score: scores[i],
                source: pool[i].source, signals: pool[i].signals)
        }
        return Self.diversify(ranked, k: k, maxRun: config.maxConsecutiveSameAuthor)
    }

    /// Keeps the ranking but never lets one author fill more than `maxRun` consecutive slots:
    /// when the next best would, the best post by someone else goes first.
    public static func diversify(_ ranked: [PostRecommendation], k: Int, maxRun: Int) -> [PostRecommendation] {
        var rest = ranked
        var out: [PostRecommendation] = []
        while out.count < k, !rest.isEmpty {
            let runAuthor = out.last?.author
            var run = 0
            for item in out.reversed() { if item.author == runAuthor { run += 1 } else { break } }
            var pick = 0
            if run >= maxRun, let i = rest.firstIndex(where: { $0.author != runAuthor }) { pick = i } else if run >= maxRun { break }
            out.append(rest.remove(at: pick))
        }
        return out
    }
}

/// One slot of the mixed feed: a post or a user to follow.
public enum FeedItem: Hashable, Sendable {
    case post(PostRecommendation)
    case user(UserRecommendation)
}

/// The mixed feed (SPEC §3): up to `posts` posts, then users to follow filling the remaining slots.
public func mixedFeed(
    user: UserIndex, k: Int, posts: Int, postRecommender: PostRecommender, followRecommender: FollowRecommender
) -> [FeedItem] {
    let postItems = postRecommender.recommend(user: user, k: min(posts, k)).map(FeedItem.post)
    let users = followRecommender.recommend(user: user, k: k - postItems.count).items.map(FeedItem.user)
    return postItems + users
}
