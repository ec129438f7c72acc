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
