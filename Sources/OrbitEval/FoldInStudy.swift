import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend

/// How close fold-in comes to retraining: `users` users (with at least 5 followees, unflagged) are
/// made "new": one model is trained without their follows and each is folded in from its follows;
/// another is retrained with them. Both rank every user the new user does not follow.
public enum FoldInStudy {
    public struct Result: Sendable {
        public var users: Int
        public var foldInMillisecondsPerUser: Double
        /// Mean share of the folded-in top 20 that the retrained model's top 20 also holds.
        public var top20Overlap: Double
        /// HR@10 on one held-out follow per new user.
        public var retrainedHR10: Double
        public var foldedInHR10: Double
        public var mostFollowedHR10: Double
    }

    /// Which graph a model is trained on: with the new users (minus their held-out follow), or
    /// without them at all.
    public enum Variant: Sendable { case retrained, withoutNewUsers }

    /// Runs the study; `train` fits a model on a graph (`heldOut` are the test follows, which must
    /// not reach its training data).
    public static func run(
        _ s: Snapshot, users: Int, seed: UInt64,
        train: (_ graph: Snapshot, _ variant: Variant, _ heldOut: [(UserIndex, UserIndex)]) throws -> NeuMFModel
    ) rethrows -> Result {
        var gen = SplitMix64(seed: seed)
        var pool = (0..<Int32(s.userCount)).filter { s.followees.degree($0) >= 5 && s.flags(of: $0).isEmpty }
        pool.shuffle(using: &gen)
        let newUsers = Array(pool.prefix(users))
        let isNew = Set(newUsers)
        // One held-out follow per new user, out of every model's training data.
        var heldOut: [UserIndex: UserIndex] = [:]
        for u in newUsers { heldOut[u] = s.followees.row(u)[s.followees.range(u).lowerBound + gen.below(s.followees.degree(u))] }
        let retrainGraph = s.keepingFollows { a, b in heldOut[a] != b }
        let withoutGraph = s.keepingFollows { a, _ in !isNew.contains(a) }
        let test = heldOut.map { ($0.key, $0.value) }
        let retrained = try train(retrainGraph, .retrained, test)
        let without = try train(withoutGraph, .withoutNewUsers, test)
        let scoreR = NeuMFScorer(model: retrained)
        var overlap = 0.0, hitR = 0, hitF = 0, hitP = 0, foldMs = 0.0
        let popular = (0..<Int32(s.userCount)).sorted { s.followers.degree($0) > s.followers.degree($1) }
        for u in newUsers {
            let follows = Array(retrainGraph.followees.row(u))
            let candidates = (0..<Int32(s.userCount)).filter { $0 != u && !follows.binarySearchContains($0) }
            let t = Date()
            let row = without.foldIn(positives: follows, exclude: [u])
            foldMs += Date().timeIntervalSince(t) * 1000
            let folded = without.logits(userRow: row, items: candidates)
            let own = scoreR.score(user: u, candidates: candidates, output: .logit)
            func top(_ sc: [Float], _ n: Int) -> [Int32] {
                let key = sc.map { $0.isFinite ? $0 : -.infinity }
                return candidates.indices.sorted { (key[$0], -$0) > (key[$1], -$1) }.prefix(n).map { candidates[$0] }
            }
            let tf = top(folded, 20), tr = top(own, 20)
            overlap += Double(Set(tf).intersection(tr).count) / 20
            if tf.prefix(10).contains(heldOut[u]!) { hitF += 1 }
            if tr.prefix(10).contains(heldOut[u]!) { hitR += 1 }
            if popular.filter({ $0 != u && !follows.binarySearchContains($0) }).prefix(10).contains(heldOut[u]!) { hitP += 1 }
        }
        let n = Double(max(1, newUsers.count))
        return Result(users: newUsers.count, foldInMillisecondsPerUser: foldMs / n, top20Overlap: overlap / n,
                      retrainedHR10: Double(hitR) / n, foldedInHR10: Double(hitF) / n, mostFollowedHR10: Double(hitP) / n)
    }
}
