import Testing
@testable import NeuMF
import TestThreads

func randomModel(_ config: NeuMFConfiguration, seed: UInt64) throws -> NeuMFModel {
    var m = try NeuMFModel(configuration: config, seed: seed)
    var rng = SplitMix64(seed: seed &+ 100)
    for k in 0..<m.parameters.count { m.parameters[k] = rng.unitFloat() - 0.5 }
    return m
}

@Test(.testThreads, arguments: [
    NeuMFConfiguration(kind: .neumf, factors: 8, layers: [64, 32, 16, 8], userCount: 7, itemCount: 300),
    NeuMFConfiguration(kind: .neumf, factors: 5, layers: [6, 5, 3], userCount: 7, itemCount: 300),
    NeuMFConfiguration(kind: .gmf, factors: 12, layers: [], userCount: 7, itemCount: 300),
    NeuMFConfiguration(kind: .mlp, layers: [20, 12], userCount: 7, itemCount: 300),
])
func batchedScorerMatchesForwardPass(config: NeuMFConfiguration) throws {
    let model = try randomModel(config, seed: 4)
    let scorer = NeuMFScorer(model: model, threads: 2)
    // Repeated and unordered candidates, more than one tile.
    let candidates = (0..<250).map { Int32(($0 * 37) % 300) }
    for u in 0..<Int32(7) {
        let logits = scorer.score(user: u, candidates: candidates, output: .logit)
        let probs = scorer.score(user: u, candidates: candidates, output: .probability, threads: 2)
        var pairScores = [Float](repeating: 0, count: candidates.count)
        let users = [Int32](repeating: u, count: candidates.count)
        users.withUnsafeBufferPointer { ub in
            candidates.withUnsafeBufferPointer { cb in
                pairScores.withUnsafeMutableBufferPointer { scorer.scorePairs(users: ub, items: cb, into: $0, output: .logit) }
            }
        }
        for (k, i) in candidates.enumerated() {
            let ref = model.logit(user: u, item: i)
            #expect(abs(logits[k] - ref) <= 1e-4 * max(1, abs(ref)))
            #expect(abs(pairScores[k] - ref) <= 1e-4 * max(1, abs(ref)))
            #expect(abs(probs[k] - model.probability(user: u, item: i)) <= 1e-5)
        }
    }
}

@Test(.testThreads) func multiThreadedScoringMatchesSingleThread() throws {
    let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [16, 8, 4], userCount: 2, itemCount: 5000)
    let scorer = NeuMFScorer(model: try randomModel(config, seed: 8))
    var rng = SplitMix64(seed: 1)
    let candidates = (0..<40000).map { _ in Int32(rng.below(5000)) }
    let a = scorer.score(user: 1, candidates: candidates, threads: 1)
    let b = scorer.score(user: 1, candidates: candidates, threads: 2)
    #expect(a == b)
}

@Test(.testThreads) func relationVectorIsGMFProductThenLastLayer() throws {
    let config = NeuMFConfiguration(kind: .neumf, factors: 3, layers: [8, 6, 4], userCount: 4, itemCount: 6)
    let model = try randomModel(config, seed: 6)
    let scorer = NeuMFScorer(model: model)
    #expect(scorer.relationDimension == 7)
    #expect(model.relationDimension == 7)
    let L = model.layout
    for u in 0..<Int32(4) {
        for i in 0..<Int32(6) {
            let v = scorer.relationVector(user: u, item: i)
            #expect(v.count == 7)
            for j in 0..<3 {
                let expected = model.parameters[Int(u) * L.rowWidth + j] * model.parameters[L.itemOffset + Int(i) * L.rowWidth + j]
                #expect(abs(v[j] - expected) < 1e-6)
            }
            // The output layer applied to the relation vector is the logit.
            var x = model.parameters[L.outputBiasOffset]
            for j in 0..<7 { x += v[j] * model.parameters[L.outputOffset + j] }
            #expect(abs(x - model.logit(user: u, item: i)) < 1e-4)
            #expect(v[3...].allSatisfy { $0 >= 0 })
        }
    }
}
