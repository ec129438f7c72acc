import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend

/// The posts protocol: on an interaction log split by time, the click model (fitted on the
/// impressions between 60% and 80% of the time, features as of 60%) ranks each user's impressions
/// after 80% (features as of 80%), against hot posts and "latest from followees".
public enum ClickModelStudy {
    /// One method's figures.
    public struct Row: Sendable {
        public var method: String
        /// Over every test impression.
        public var auc: Double
        /// Over the users with at least 10 test impressions, a click and a non-click.
        public var hitRate10: Double
    }

    public struct Result: Sendable {
        public var model: ClickModel
        public var trainImpressions: Int
        public var trainClicked: Int
        public var testImpressions: Int
        public var testClicked: Int
        public var usersEvaluated: Int
        public var rows: [Row]

        public var markdown: String {
            var s = "| method | AUC (all test impressions) | HR@10 (\(usersEvaluated) users with ≥ 10 impressions, a click and a non-click) |\n|---|---|---|\n"
            for r in rows { s += String(format: "| %@ | %.4f | %.4f |\n", r.method, r.auc, r.hitRate10) }
            return s
        }
    }

    /// Runs the protocol on `columns`; `followModel` trains the follow model that gives the click
    /// model's affinity feature on a snapshot (once as of 60%, once as of 80% of the time).
    public static func run(_ columns: Snapshot.Columns, followModel: (Snapshot) throws -> (any PairScorer)?) rethrows -> Result {
        let t60 = ClickModelTraining.quantile(columns, 0.6), t80 = ClickModelTraining.quantile(columns, 0.8)
        let s60 = ClickModelTraining.snapshot(columns, at: t60), s80 = ClickModelTraining.snapshot(columns, at: t80)
        let test = ClickModelTraining.impressions(columns, from: t80, to: .max)
        let aff60 = try followModel(s60)
        let (clickModel, trainCount, trainClicked) = ClickModelTraining.fit(columns, featureTime: t60, until: t80, affinity: aff60)
        let aff80 = try followModel(s80)
        let view80 = LiveView(snapshot: s80)
        let scorer = ClickModelScorer(model: clickModel, affinity: aff80, now: t80)
        let hot = HotConfig()
        var byUser: [UserIndex: [(PostIndex, Bool)]] = [:]
        for (u, p, l) in test { byUser[u, default: []].append((p, l)) }
        let names = ["click model", "hot posts", "latest from followees"]
        var scores: [[Float]] = [[], [], []]
        var labels: [Bool] = []
        var hits = [0, 0, 0], evaluated = 0
        for u in byUser.keys.sorted() {
            let items = byUser[u]!
            let posts = items.map(\.0)
            let model = scorer.clickProbabilities(user: u, posts: posts, view: view80)
            let hotScore: [Float] = posts.map { p in
                var e: Float = 0
                for k in 0..<Snapshot.kindCount { e += hot.weights[k] * Float(s80.postKindCounts[Int(p) * Snapshot.kindCount + k]) }
                return HotPosts.score(engagement: e, createdAt: s80.postCreatedAt[Int(p)], now: t80, config: hot)
            }
            let latest: [Float] = posts.map { p in
                (view80.follows(u, s80.postAuthor[Int(p)]) ? 1e10 : 0) + Float(s80.postCreatedAt[Int(p)] - t60)
            }
            let methods = [model, hotScore, latest]
            for k in methods.indices { scores[k] += methods[k] }
            labels += items.map(\.1)
            guard items.count >= 10, items.contains(where: \.1), items.contains(where: { !$0.1 }) else { continue }
            evaluated += 1
            for (k, sc) in methods.enumerated() {
                // Non-finite scores rank last: a broken scorer must not look good.
                let key = sc.map { $0.isFinite ? $0 : -.infinity }
                let top = items.indices.sorted { (key[$0], -$0) > (key[$1], -$1) }.prefix(10)
                if top.contains(where: { items[$0].1 }) { hits[k] += 1 }
            }
        }
        let rows = names.indices.map { k in
            Row(method: names[k], auc: Metrics.auc(scores: scores[k], labels: labels) ?? .nan,
                hitRate10: Double(hits[k]) / Double(max(1, evaluated)))
        }
        return Result(model: clickModel, trainImpressions: trainCount, trainClicked: trainClicked, testImpressions: test.count,
                      testClicked: test.filter(\.2).count, usersEvaluated: evaluated, rows: rows)
    }
}

