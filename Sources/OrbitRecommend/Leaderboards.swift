import OrbitCore

/// Engagement weights and decay of the hot-posts score.
public struct HotConfig: Sendable {
    /// Weight of one interaction of each kind (view, click, like, repost, comment, author_click).
    public var weights: [Float] = [0.1, 1, 2, 4, 3, 2]
    /// The score halves every `halfLife` seconds of a post's age.
    public var halfLife: Double = 24 * 3600
    public init() {}
}

/// Hot posts: engagement-weighted, decaying with age; the cold-start feed and the source of hot authors.
public struct HotPosts: Sendable {
    public let posts: [(post: PostIndex, score: Float)]

    public init(snapshot s: Snapshot, now: Timestamp, config: HotConfig = HotConfig(), limit: Int = 5_000) {
        var scored: [(post: PostIndex, score: Float)] = []
        scored.reserveCapacity(s.postCount)
        let kinds = Snapshot.kindCount
        for p in 0..<s.postCount {
            var e: Float = 0
            for k in 0..<kinds { e += config.weights[k] * Float(s.postKindCounts[p * kinds + k]) }
            guard e > 0 else { continue }
            scored.append((PostIndex(p), Self.score(engagement: e, createdAt: s.postCreatedAt[p], now: now, config: config)))
        }
        posts = topK(scored, k: limit) { $0.score }
    }

    /// The score of a post with weighted engagement `e`: `e · 2^(−age / halfLife)`; posts from the
    /// future (clock skew) count as new.
    public static func score(engagement e: Float, createdAt: Timestamp, now: Timestamp, config: HotConfig) -> Float {
        let age = Double(max(0, now - createdAt))
        return e * Float(pow2(-age / config.halfLife))
    }

    static func pow2(_ x: Double) -> Double { x < -60 ? 0 : _exp2(x) }
}

/// Most-followed users (all time and within a recent window) and authors of hot posts, computed
/// once per snapshot: the cold-start sources of SPEC §2.1.
public struct Leaderboards: Sendable {
    public let mostFollowed: [(user: UserIndex, followers: Int)]
    public let recentlyFollowed: [(user: UserIndex, newFollowers: Int)]
    public let hotAuthors: [(user: UserIndex, hotPosts: Int, score: Float)]
    public let recentDays: Int
    /// Every user's new followers within the last `recentDays` (a ranking feature, read per candidate).
    public let newFollowers: [Int32]
    public let hot: HotPosts

    public init(snapshot s: Snapshot, now: Timestamp, recentDays: Int = 7, hot: HotConfig = HotConfig(), limit: Int = 2_000) {
        self.recentDays = recentDays
        let n = s.userCount
        let usable = (0..<Int32(n)).filter { s.userFlags[Int($0)].isEmpty }
        mostFollowed = topK(usable.map { ($0, s.followers.degree($0)) }, k: limit) { Float($0.1) }
            .map { (user: $0.0, followers: $0.1) }
        let since = now - Timestamp(recentDays) * 86_400
        var recent = [Int](repeating: 0, count: n)
        for u in 0..<n {
            for e in s.followers.range(Int32(u)) where s.followedAt[e] >= since && s.followedAt[e] <= now { recent[u] += 1 }
        }
        recentlyFollowed = topK(usable.filter { recent[Int($0)] > 0 }.map { ($0, recent[Int($0)]) }, k: limit) { Float($0.1) }
            .map { (user: $0.0, newFollowers: $0.1) }
        newFollowers = recent.map { Int32(clamping: $0) }
        let hotPosts = HotPosts(snapshot: s, now: now, config: hot)
        self.hot = hotPosts
        var byAuthor: [UserIndex: (Int, Float)] = [:]
        for (p, score) in hotPosts.posts {
            let a = s.postAuthor[Int(p)]
            guard s.userFlags[Int(a)].isEmpty else { continue }
            byAuthor[a, default: (0, 0)].0 += 1
            byAuthor[a, default: (0, 0)].1 += score
        }
        hotAuthors = topK(byAuthor.sorted { $0.key < $1.key }.map { ($0.key, $0.value.0, $0.value.1) }, k: limit) { $0.2 }
            .map { (user: $0.0, hotPosts: $0.1, score: $0.2) }
    }

    /// The latest timestamp of any follow, post or interaction: "now" for historical data.
    public static func latestEvent(in s: Snapshot) -> Timestamp {
        max(s.followedAt.max() ?? 0, s.postCreatedAt.max() ?? 0, s.userCreatedAt.max() ?? 0)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _exp2(_ x: Double) -> Double { exp2(x) }
