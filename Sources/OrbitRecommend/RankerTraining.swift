import OrbitCore
import Ranking

/// Training rows for the ranking stage: features of each user's candidate union as of an
/// earlier graph, labelled 1 where the user followed the candidate later.
public struct RankingExamples: Sendable {
    public var features: FeatureMatrix
    public var labels: [Float]
    /// Consecutive group sizes, one group a user.
    public var groups: [UInt32]
    /// Held-out follows in all, and how many the candidate union holds (the ranker's ceiling).
    public var heldOut = 0
    public var inUnion = 0

    /// Share of the held-out follows the candidate union holds.
    public var unionRecall: Double { heldOut == 0 ? 0 : Double(inUnion) / Double(heldOut) }

    /// Adds `other`'s rows (the same features) after these.
    public mutating func append(_ other: RankingExamples) {
        precondition(other.features.names == features.names, "examples of other features")
        features.values += other.features.values
        labels += other.labels
        groups += other.groups
        heldOut += other.heldOut
        inUnion += other.inUnion
    }

    /// The same rows restricted to some features (an ablation).
    public func keeping(_ keep: (String) -> Bool) -> RankingExamples {
        var e = self
        e.features = features.dropping { !keep($0) }
        return e
    }
}

public enum FollowRankerTraining {
    /// Rows for `labels` (user → the users it followed after the recommender's graph was taken):
    /// each user's candidate union through `recommender`, as served. Users whose union holds none of
    /// their later follows teach nothing to a ranking objective and are left out (they still count
    /// in `heldOut`).
    public static func examples(recommender: FollowRecommender, labels: [UserIndex: [UserIndex]], perSource: Int) -> RankingExamples {
        var e = RankingExamples(features: FeatureMatrix(names: FollowFeatures.names), labels: [], groups: [])
        for u in labels.keys.sorted() {
            let truth = Set(labels[u]!)
            e.heldOut += truth.count
            let (cands, m) = recommender.rankingFeatures(user: u, perSource: perSource)
            let y = cands.map { truth.contains($0.user) ? Float(1) : 0 }
            let hits = Int(y.reduce(0, +))
            e.inUnion += hits
            guard hits > 0, hits < cands.count else { continue }
            e.features.values += m.values
            e.labels += y
            e.groups.append(UInt32(cands.count))
        }
        return e
    }

    /// The rows of several splits (recommender over the split's input graph, its later follows), together.
    public static func examples(_ splits: [(FollowRecommender, [UserIndex: [UserIndex]])], perSource: Int) -> RankingExamples {
        var all = RankingExamples(features: FeatureMatrix(names: FollowFeatures.names), labels: [], groups: [])
        for (rec, labels) in splits { all.append(examples(recommender: rec, labels: labels, perSource: perSource)) }
        return all
    }

    /// Fits the ranker on `examples`.
    public static func fit(_ examples: RankingExamples, parameters: RankerParameters) throws(RankerError) -> GradientBoostedRanker {
        try GradientBoostedRanker.train(examples.features, labels: examples.labels, groups: examples.groups, parameters: parameters)
    }
}
