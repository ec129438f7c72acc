import NeuMF
import OrbitCore

/// A trained follow-graph NeuMF model as the `PairScorer` the model-based sources use: users
/// on both sides share the dense user index.
public struct NeuMFPairScorer: PairScorer {
    public let scorer: NeuMFScorer
    /// Threads used to score one long candidate list (the simple logic's full scan).
    public var threads: Int

    public init(model: NeuMFModel, threads: Int = 0) {
        scorer = NeuMFScorer(model: model, threads: threads)
        self.threads = threads
    }

    public var knownUsers: Int { min(scorer.configuration.userCount, scorer.configuration.itemCount) }
    public var relationDimension: Int { scorer.relationDimension }

    public func scores(user: UserIndex, candidates: [UserIndex]) -> [Float] {
        guard !candidates.isEmpty else { return [] }
        // Splitting across threads only pays for long lists.
        return scorer.score(user: user, candidates: candidates, output: .probability, threads: candidates.count > 50_000 ? threads : 1)
    }

    public func followeeEmbedding(_ v: UserIndex) -> ArraySlice<Float>? {
        v >= 0 && Int(v) < scorer.configuration.itemCount ? scorer.model.itemEmbedding(v) : nil
    }

    public func relationVectors(user: UserIndex, items: [UserIndex]) -> [Float] {
        var out = [Float](repeating: 0, count: items.count * relationDimension)
        let users = [Int32](repeating: user, count: items.count)
        users.withUnsafeBufferPointer { ub in
            items.withUnsafeBufferPointer { ib in
                out.withUnsafeMutableBufferPointer { scorer.relationVectors(users: ub, items: ib, into: $0) }
            }
        }
        return out
    }
}

extension NeuMFPairScorer {
    /// Folds `user` in from its followees (milliseconds; every model parameter frozen).
    public func foldingIn(user: UserIndex, followees: [UserIndex]) -> (any PairScorer)? {
        let known = followees.filter { Int($0) < knownUsers }
        guard !known.isEmpty else { return nil }
        let row = scorer.model.foldIn(positives: known, exclude: Int(user) < knownUsers ? [user] : [])
        return FoldedUserScorer(base: self, user: user, row: row)
    }
}

/// A model scorer plus one folded-in user, answering for that user from its learnt row.
public struct FoldedUserScorer: PairScorer {
    public let base: NeuMFPairScorer
    public let user: UserIndex
    public let row: [Float]

    public var knownUsers: Int { base.knownUsers }
    public func followeeEmbedding(_ v: UserIndex) -> ArraySlice<Float>? { base.followeeEmbedding(v) }
    public var relationDimension: Int { base.relationDimension }
    public func canScore(user u: UserIndex) -> Bool { u == user || base.canScore(user: u) }

    public func scores(user u: UserIndex, candidates: [UserIndex]) -> [Float] {
        guard u == user else { return base.scores(user: u, candidates: candidates) }
        return base.scorer.model.logits(userRow: row, items: candidates).map { 1 / (1 + _expNeg($0)) }
    }

    public func relationVectors(user u: UserIndex, items: [UserIndex]) -> [Float] {
        guard u == user else { return base.relationVectors(user: u, items: items) }
        return base.scorer.model.relationVectors(userRow: row, items: items)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _expNeg(_ x: Float) -> Float { expf(-x) }
