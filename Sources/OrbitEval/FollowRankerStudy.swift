import Foundation
import OrbitCore
import OrbitRecommend
import Ranking

/// The ranking stage, evaluated like every other method: fitted on an earlier split of the
/// training graph (features as of an earlier cut, labels the follows after it), its settings
/// chosen on validation, reported on test, with ablations by feature group.
public enum FollowRankerStudy {
    /// The ranker's own training split, carved out of the training graph only: nothing of the
    /// validation or test follows reaches it.
    public struct TrainingSplit: Sendable {
        /// The graph the ranker's features are computed on.
        public var input: Snapshot
        /// Follows made after `input` (the labels).
        public var labels: [UserIndex: [UserIndex]]
    }

    /// The split: by time where the graph's follows carry times (the follows before an earlier cut,
    /// labels the latest `fraction` of the training graph's follows), else a random masking of
    /// `fraction` of sampled users' follows.
    public static func trainingSplit(of train: Snapshot, fraction: Double = 0.1, seed: UInt64, maxUsers: Int) -> TrainingSplit {
        trainingSplits(of: train, fraction: fraction, slices: 1, seed: seed, maxUsers: maxUsers)[0]
    }

    /// `slices` splits, latest first: by time, slice k has the follows before the cut at
    /// `1 - (k + 1) · fraction` of the training graph's follows as input and the next `fraction` as
    /// labels (only the first slice's labels reach the training graph's end); without times, `slices`
    /// independent random maskings. More slices, more training rows, the same protocol.
    public static func trainingSplits(of train: Snapshot, fraction: Double = 0.1, slices: Int, seed: UInt64, maxUsers: Int) -> [TrainingSplit] {
        (0..<max(1, slices)).map { k in
            if train.hasFollowTimes {
                let end = k == 0 ? Timestamp.max : train.followTimeQuantile(1 - Double(k) * fraction)
                let t = train.followTimeQuantile(1 - Double(k + 1) * fraction)
                let upToEnd = k == 0 ? train : train.keepingFollows(madeBefore: end)
                let h = FollowHoldout.byTime(upToEnd, cuts: .init(validation: t, test: t), seed: seed &+ UInt64(k), maxUsers: maxUsers)
                return TrainingSplit(input: h.testInput, labels: h.test)
            }
            let h = FollowHoldout.random(train, seed: seed &+ UInt64(k), fraction: fraction, maxUsers: maxUsers)
            return TrainingSplit(input: h.testInput, labels: h.test)
        }
    }

    /// One fitted configuration and its figures.
    public struct Row: Sendable {
        public var name: String
        public var parameters: RankerParameters
        public var features: [String]
        public var validation: FollowMetrics
        public var test: FollowMetrics?
    }

    public struct Result: Sendable {
        public var rows: [Row]
        /// The configuration chosen on validation HR@10 (then NDCG@10).
        public var chosen: Int
        /// Share of the held-out follows the candidate union holds: the ranker's ceiling.
        public var trainingUnionRecall: Double
        public var validationUnionRecall: Double
        public var testUnionRecall: Double
        public var trainingRows: Int
        public var trainingGroups: Int
        /// The rows the test-time rankers were fitted on (more than `trainingRows` with the refit).
        public var testTrainingRows: Int
        public var testTrainingGroups: Int
        public var fitSeconds: Double
    }

    /// Feature groups left out one at a time in the ablations (NeuMF's features: its logit, the
    /// relation cosine and the model source's rank and score).
    public static let ablations: [(String, @Sendable (String) -> Bool)] = [
        ("without the NeuMF features", { $0.hasPrefix("model.") || $0.hasPrefix("source.neumf_") }),
        ("without the source ranks and scores", { $0.hasPrefix("source.") }),
        ("without the graph counts", { $0.hasPrefix("graph.") }),
        ("without the degrees", { $0.hasPrefix("degree.") }),
        ("without the engagement features", { $0.hasPrefix("engagement.") }),
        ("without the time features", { $0.hasPrefix("time.") || $0 == "degree.candidate_new_followers_7d" }),
    ]

    /// Fits and evaluates. `rankerScorer` is the follow model trained on the earliest split's input
    /// (nil: no model features); `scorer` the one trained on the training graph that never saw the
    /// validation follows (validation queries) and `testScorer` the one for test queries (default
    /// `scorer`). The candidate union never uses the complex logic here: its index would be built
    /// from a model that saw the ranker's labels.
    ///
    /// With `refit`, the rankers scored on test are fitted the way the validation-time rankers
    /// were, on the slices just before their period: the splits plus the validation follows as
    /// one more slice (features on the training graph, by `scorer`). The settings are still chosen
    /// on validation; this is the ranker's counterpart of the follow model's refit on train +
    /// validation, and what a deployment does (its latest follows join the ranker's training).
    public static func run(
        holdout: FollowHoldout, splits: [TrainingSplit], rankerScorer: (any PairScorer)?, scorer: (any PairScorer)?,
        testScorer: (any PairScorer)? = nil, candidates: [RankerParameters], perSource: Int = 50, refit: Bool = true,
        expansion: ExpansionLimits = ExpansionLimits(), log: (String) -> Void = { _ in }
    ) throws(RankerError) -> Result {
        func recommender(_ g: Snapshot, _ s: (any PairScorer)?, _ ranker: FollowRanker? = nil) -> FollowRecommender {
            let now = Leaderboards.latestEvent(in: g)
            var c = BlendConfig()
            c.expansion = expansion
            return FollowRecommender(view: LiveView(snapshot: g), leaderboards: Leaderboards(snapshot: g, now: now), now: now, config: c,
                                     scorer: s, ranker: ranker)
        }
        let t0 = Date()
        let examples = FollowRankerTraining.examples(splits.map { (recommender($0.input, rankerScorer), $0.labels) }, perSource: perSource)
        log(String(format: "ranker training rows: %d in %d groups; union recall %.4f (%.1f s)", examples.labels.count, examples.groups.count,
                   examples.unionRecall, Date().timeIntervalSince(t0)))
        let catalogue = holdout.train.userFlags.filter(\.isEmpty).count
        func evaluate(_ g: Snapshot, _ s: (any PairScorer)?, _ model: GradientBoostedRanker, _ heldOut: [UserIndex: [UserIndex]]) throws(RankerError) -> FollowMetrics {
            let rec = recommender(g, s, try FollowRanker(model: model, perSource: perSource))
            return evaluateFollows(heldOut: heldOut, catalogueSize: catalogue) { u in rec.recommend(user: u, k: 20).items.map { ($0.user, $0.source) } }
        }
        var rows: [Row] = []
        var fitSeconds = 0.0
        for p in candidates {
            let t = Date()
            let model = try FollowRankerTraining.fit(examples, parameters: p)
            fitSeconds += Date().timeIntervalSince(t)
            let v = try evaluate(holdout.train, scorer, model, holdout.validation)
            let name = "ranker: trees \(p.trees), depth \(p.maxDepth), min child weight \(p.minChildWeight), lr \(p.learningRate)"
            log(String(format: "validation  %@: HR@10 %.4f NDCG@10 %.4f", name, v.hitRate10, v.ndcg10))
            rows.append(Row(name: name, parameters: p, features: FollowFeatures.names, validation: v))
        }
        let chosen = rows.indices.max { (rows[$0].validation.hitRate10, rows[$0].validation.ndcg10) < (rows[$1].validation.hitRate10, rows[$1].validation.ndcg10) }!
        let best = rows[chosen].parameters
        for (name, drop) in ablations {
            let kept = examples.keeping { !drop($0) }
            guard kept.features.names.count < FollowFeatures.names.count, !kept.features.names.isEmpty else { continue }
            let model = try FollowRankerTraining.fit(kept, parameters: best)
            let v = try evaluate(holdout.train, scorer, model, holdout.validation)
            log(String(format: "validation  ranker %@: HR@10 %.4f", name, v.hitRate10))
            rows.append(Row(name: "ranker (chosen settings) \(name)", parameters: best, features: kept.features.names, validation: v))
        }
        let validationSlice = FollowRankerTraining.examples(recommender: recommender(holdout.train, scorer), labels: holdout.validation,
                                                            perSource: perSource)
        var testExamples = examples
        if refit {
            testExamples.append(validationSlice)
            log(String(format: "test rankers refitted with the validation slice: %d rows in %d groups", testExamples.labels.count,
                       testExamples.groups.count))
        }
        // Test, every row (the choice can be checked), each model refitted as it was chosen.
        for i in rows.indices {
            let keep = Set(rows[i].features)
            let t = Date()
            let model = try FollowRankerTraining.fit(testExamples.keeping { keep.contains($0) }, parameters: rows[i].parameters)
            fitSeconds += Date().timeIntervalSince(t)
            rows[i].test = try evaluate(holdout.testInput, testScorer ?? scorer, model, holdout.test)
        }
        let testUnion = FollowRankerTraining.examples(recommender: recommender(holdout.testInput, testScorer ?? scorer), labels: holdout.test,
                                                      perSource: perSource)
        return Result(rows: rows, chosen: chosen, trainingUnionRecall: examples.unionRecall,
                      validationUnionRecall: validationSlice.unionRecall, testUnionRecall: testUnion.unionRecall,
                      trainingRows: examples.labels.count, trainingGroups: examples.groups.count,
                      testTrainingRows: testExamples.labels.count, testTrainingGroups: testExamples.groups.count, fitSeconds: fitSeconds)
    }

    /// The ranker rows as Markdown, in the columns of `FollowBenchmark.markdown`.
    public static func markdown(_ r: Result) -> String {
        var s = ""
        for (i, row) in r.rows.enumerated() {
            guard let t = row.test else { continue }
            let mark = i == r.chosen ? " **(chosen on validation)**" : ""
            let shares = t.sourceShare.sorted { $0.value > $1.value }.prefix(4).map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
            s += String(format: "| %@%@ | %.4f | %.4f | %.4f | %.4f | %.4f | %@ |\n", row.name, mark, row.validation.hitRate10,
                        t.hitRate10, t.recall20, t.ndcg10, t.coverage10, shares)
        }
        s += String(format: "\ncandidate union recall of the held-out follows: ranker training %.4f, validation %.4f, test %.4f; %d training rows in %d groups",
                    r.trainingUnionRecall, r.validationUnionRecall, r.testUnionRecall, r.trainingRows, r.trainingGroups)
        if r.testTrainingRows != r.trainingRows {
            s += String(format: " (test rankers refitted with the validation slice: %d rows in %d groups)", r.testTrainingRows, r.testTrainingGroups)
        }
        s += String(format: ", fits %.1f s in all\n", r.fitSeconds)
        return s
    }
}
