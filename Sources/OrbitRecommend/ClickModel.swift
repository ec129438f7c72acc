import Foundation
import NeuMF
import OrbitCore

/// The click model of SPEC §3: the probability that a user clicks a post, learnt from
/// impressions (a view followed by a click or a stronger signal is a positive, a view without
/// one is a negative).
///
/// A post is represented through its author and its own engagement: the follow model's NeuMF
/// score of (user, author) and the user's engagement with the author carry the user–author
/// affinity, the post's weighted engagement and age carry the post itself. A new post with no
/// interactions is therefore scored through its author from the first second. The features are
/// combined by logistic regression, which keeps the probabilities calibrated.
public struct ClickModel: Sendable, Codable, Equatable {
    public static let featureNames = [
        "bias", "follow-model score (user, author)", "follows author", "engagement key with author / 15",
        "log(1 + interactions with author)", "log(1 + post engagement)", "post age (days, capped at 30) / 30",
        "log(1 + author followers) / 10",
    ]
    public var weights: [Double]

    public init(weights: [Double] = Array(repeating: 0, count: ClickModel.featureNames.count)) {
        self.weights = weights
    }

    /// The features of (user, post) as seen through `view`; `affinity` is the follow model's
    /// probability that the user follows the author (0.5 when there is no model).
    public static func features(user: UserIndex, post: PostIndex, view: LiveView, now: Timestamp, affinity: Float) -> [Double] {
        let s = view.snapshot
        guard let author = view.author(of: post) else { return [1, 0.5, 0, 0, 0, 0, 1, 0] }
        var key = 0, count: Int32 = 0
        for e in s.engagements(of: user) where e.author == author {
            key = e.signals.priorityKey
            count = e.count
        }
        var engagement: Double = 0
        var created = now
        if Int(post) < s.postCount {
            for k in 0..<Snapshot.kindCount {
                engagement += Double(HotConfig().weights[k]) * Double(s.postKindCounts[Int(post) * Snapshot.kindCount + k])
            }
            created = s.postCreatedAt[Int(post)]
        } else if let p = view.overlay.newPosts[post] {
            created = p.createdAt
        }
        let ageDays = min(30, Double(max(0, now - created)) / 86_400)
        return [1, Double(affinity), view.follows(user, author) ? 1 : 0, Double(key) / 15, log1p(Double(count)),
                log1p(engagement), ageDays / 30, log1p(Double(s.followers.degree(author))) / 10]
    }

    public func probability(_ x: [Double]) -> Double {
        var z = 0.0
        for j in 0..<weights.count { z += weights[j] * x[j] }
        return 1 / (1 + exp(-z))
    }

    /// Fits the weights by Adam on log loss over labelled impressions (deterministic).
    public static func fit(features: [[Double]], labels: [Bool], epochs: Int = 30, learningRate: Double = 0.05, l2: Double = 1e-4) -> ClickModel {
        var m = ClickModel()
        let d = m.weights.count
        var mom = [Double](repeating: 0, count: d), vel = [Double](repeating: 0, count: d)
        var step = 0
        let batch = 256
        for _ in 0..<epochs {
            var start = 0
            while start < features.count {
                let end = min(features.count, start + batch)
                var g = [Double](repeating: 0, count: d)
                for i in start..<end {
                    let err = m.probability(features[i]) - (labels[i] ? 1 : 0)
                    for j in 0..<d { g[j] += err * features[i][j] }
                }
                step += 1
                for j in 0..<d {
                    let gj = g[j] / Double(end - start) + l2 * m.weights[j]
                    mom[j] = 0.9 * mom[j] + 0.1 * gj
                    vel[j] = 0.999 * vel[j] + 0.001 * gj * gj
                    let mh = mom[j] / (1 - pow(0.9, Double(step))), vh = vel[j] / (1 - pow(0.999, Double(step)))
                    m.weights[j] -= learningRate * mh / (vh.squareRoot() + 1e-8)
                }
                start = end
            }
        }
        return m
    }
}

/// Ranks a browse pool by the click model, with the follow model supplying user–author affinity.
public struct ClickModelScorer: PostScorer {
    public let model: ClickModel
    public let affinity: (any PairScorer)?
    public let now: Timestamp

    public init(model: ClickModel, affinity: (any PairScorer)?, now: Timestamp) {
        self.model = model
        self.affinity = affinity
        self.now = now
    }

    public func clickProbabilities(user: UserIndex, posts: [PostIndex], view: LiveView) -> [Float] {
        let authors = posts.map { view.author(of: $0) ?? 0 }
        var aff = [Float](repeating: 0.5, count: posts.count)
        if let affinity, affinity.canScore(user: user) {
            let known = authors.indices.filter { Int(authors[$0]) < affinity.knownUsers }
            let s = affinity.scores(user: user, candidates: known.map { authors[$0] })
            for (k, i) in known.enumerated() { aff[i] = s[k] }
        }
        return posts.indices.map { i in
            Float(model.probability(ClickModel.features(user: user, post: posts[i], view: view, now: now, affinity: aff[i])))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fits the click model from an event log: features as the platform looked at `featureTime`,
/// labels from the impressions after it (a view with any click or stronger signal is a positive).
/// Retraining on a schedule is calling this again on the newer log.
public enum ClickModelTraining {
    /// The snapshot of `columns` as it was at time `t` (follows and interactions before it).
    public static func snapshot(_ c: Snapshot.Columns, at t: Timestamp) -> Snapshot {
        var d = c
        let keepFollow = c.followCreatedAt.indices.filter { c.followCreatedAt[$0] < t }
        d.followFollower = keepFollow.map { c.followFollower[$0] }
        d.followFollowee = keepFollow.map { c.followFollowee[$0] }
        d.followCreatedAt = keepFollow.map { c.followCreatedAt[$0] }
        let keep = c.interactionTime.indices.filter { c.interactionTime[$0] < t }
        d.interactionUser = keep.map { c.interactionUser[$0] }
        d.interactionPost = keep.map { c.interactionPost[$0] }
        d.interactionKind = keep.map { c.interactionKind[$0] }
        d.interactionTime = keep.map { c.interactionTime[$0] }
        return Snapshot.build(d)
    }

    /// Impressions in `[from, to)`: (user, post, clicked).
    public static func impressions(_ c: Snapshot.Columns, from: Timestamp, to: Timestamp) -> [(UserIndex, PostIndex, Bool)] {
        var label: [Int64: Bool] = [:]
        for i in c.interactionTime.indices where c.interactionTime[i] >= from && c.interactionTime[i] < to {
            let key = Int64(c.interactionUser[i]) << 32 | Int64(c.interactionPost[i])
            label[key] = (label[key] ?? false) || c.interactionKind[i] != Interaction.Kind.view.rawValue
        }
        return label.keys.sorted().map { (UserIndex($0 >> 32), PostIndex(truncatingIfNeeded: $0), label[$0]!) }
    }

    /// The time at which a share `q` of the interactions has happened.
    public static func quantile(_ c: Snapshot.Columns, _ q: Double) -> Timestamp {
        let t = c.interactionTime.sorted()
        return t.isEmpty ? 0 : t[min(t.count - 1, Int(Double(t.count) * q))]
    }

    /// Where a platform logs clicks but no views, a user's clicks come without negatives: adds
    /// `perUser` posts the user never touched (seeded), created before `until`, as non-clicks.
    public static func addingSampledNegatives(
        _ imps: [(UserIndex, PostIndex, Bool)], postCreatedAt: [Timestamp], until: Timestamp, perUser: Int = 4, seed: UInt64 = 5
    ) -> [(UserIndex, PostIndex, Bool)] {
        var touched: [UserIndex: Set<PostIndex>] = [:], hasNegative = Set<UserIndex>()
        for (u, p, clicked) in imps {
            touched[u, default: []].insert(p)
            if !clicked { hasNegative.insert(u) }
        }
        let eligible = postCreatedAt.indices.filter { postCreatedAt[$0] < until }
        guard !eligible.isEmpty else { return imps }
        var rng = SplitMix64(seed: seed)
        var out = imps
        for u in touched.keys.sorted() where !hasNegative.contains(u) {
            var added = 0, tries = 0
            while added < perUser, tries < perUser * 20 {
                tries += 1
                let p = PostIndex(eligible[rng.below(eligible.count)])
                if touched[u]!.insert(p).inserted { out.append((u, p, false)); added += 1 }
            }
        }
        return out
    }

    /// Features of the impressions in `[featureTime, until)` as of `featureTime`, and the fitted model.
    public static func fit(
        _ c: Snapshot.Columns, featureTime: Timestamp, until: Timestamp = .max, affinity: (any PairScorer)?
    ) -> (model: ClickModel, impressions: Int, clicked: Int) {
        let s = snapshot(c, at: featureTime)
        let view = LiveView(snapshot: s)
        let train = addingSampledNegatives(
            impressions(c, from: featureTime, to: until), postCreatedAt: c.postCreatedAt, until: until)
        let x = train.map { u, p, _ in
            let a = view.author(of: p) ?? 0
            let aff: Float = affinity.map { $0.canScore(user: u) && Int(a) < $0.knownUsers ? $0.scores(user: u, candidates: [a])[0] : 0.5 } ?? 0.5
            return ClickModel.features(user: u, post: p, view: view, now: featureTime, affinity: aff)
        }
        return (ClickModel.fit(features: x, labels: train.map(\.2)), train.count, train.filter(\.2).count)
    }
}

/// Why a click-model file was refused.
public enum ClickModelFileError: Error, CustomStringConvertible, Sendable {
    case wrongShape(path: String, found: Int)

    public var description: String {
        switch self {
        case .wrongShape(let path, let found):
            "\(path): expected \(ClickModel.featureNames.count) weights, found \(found); refit it with this version of Orbit"
        }
    }
}

extension ClickModel {
    /// Writes the model as JSON, atomically (a temporary file renamed over the old one), creating the folder.
    public func save(to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a model written by `save(to:)`, refusing one with a different number of features.
    public static func load(from path: String) throws -> ClickModel {
        let m = try JSONDecoder().decode(ClickModel.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        guard m.weights.count == featureNames.count else { throw ClickModelFileError.wrongShape(path: path, found: m.weights.count) }
        return m
    }
}
