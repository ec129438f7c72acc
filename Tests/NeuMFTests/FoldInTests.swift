import Testing
@testable import NeuMF
import TestThreads

@Suite(.testThreads) struct FoldInTests {
    /// The row gradient agrees with finite differences of the logit.
    @Test func rowGradientMatchesFiniteDifferences() throws {
        let config = NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 6, 4], userCount: 5, itemCount: 7)
        let model = try NeuMFModel(configuration: config, seed: 3)
        var rng = SplitMix64(seed: 5)
        let row = (0..<(4 + 4)).map { _ in rng.normal() * 0.5 }
        for item in [Int32(0), 3, 6] {
            let (_, g, _) = model.rowGradient(row: row, item: item)
            for j in row.indices {
                var plus = row, minus = row
                let h: Float = 1e-2
                plus[j] += h
                minus[j] -= h
                let fd = (model.logits(userRow: plus, items: [item])[0] - model.logits(userRow: minus, items: [item])[0]) / (2 * h)
                #expect(abs(fd - g[j]) < 2e-3 + 0.02 * abs(fd), "item \(item) dim \(j): \(fd) vs \(g[j])")
            }
        }
    }

    /// A row of a trained user reproduces that user's logits and relation vectors.
    @Test func rowScoringEqualsTheModelForAKnownUser() throws {
        let config = NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: 6, itemCount: 9)
        let model = try NeuMFModel(configuration: config, seed: 9)
        let u: Int32 = 2
        let row = Array(model.parameters[(Int(u) * 8)..<(Int(u) * 8 + 8)])
        let items: [Int32] = [0, 4, 8]
        let viaRow = model.logits(userRow: row, items: items)
        for (k, i) in items.enumerated() { #expect(abs(viaRow[k] - model.logit(user: u, item: i)) < 1e-5) }
        let scorer = NeuMFScorer(model: model, threads: 1)
        let rv = model.relationVectors(userRow: row, items: [4])
        let direct = scorer.relationVector(user: u, item: 4)
        #expect(zip(rv, direct).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// Folding a user in from its training positives ranks its held-out item about as well as
    /// the trained row does, far above chance.
    @Test func foldedInUserRanksItsHeldOutItemWell() throws {
        let p = try Planted()
        let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [16, 16, 8], userCount: p.users, itemCount: p.items)
        var o = TrainingOptions()
        o.epochs = 12
        o.threads = 1
        o.batchSize = 64
        o.learningRate = 0.03
        let trained = try NeuMFTrainer.train(NeuMFModel(configuration: config, seed: 1), data: p.data, options: o).model
        var hitsFolded = 0, hitsTrained = 0
        let users = 24
        for u in 0..<Int32(users) {
            let positives = zip(p.train.u, p.train.i).filter { $0.0 == u }.map(\.1)
            let row = trained.foldIn(positives: positives)
            // Rank the held-out item among the items the user has not seen.
            let candidates = (0..<Int32(p.items)).filter { !positives.contains($0) }
            let target = candidates.firstIndex(of: p.heldOut[Int(u)])!
            let folded = trained.logits(userRow: row, items: candidates)
            if folded.filter({ $0 > folded[target] }).count < 5 { hitsFolded += 1 }
            let own = candidates.map { trained.logit(user: u, item: $0) }
            if own.filter({ $0 > own[target] }).count < 5 { hitsTrained += 1 }
        }
        // Chance of a top-5 hit among ~45 candidates is about 0.11.
        #expect(hitsFolded * 10 >= hitsTrained * 8, "folded-in HR@5 \(hitsFolded)/\(users), trained \(hitsTrained)/\(users)")
        #expect(Double(hitsFolded) / Double(users) > 0.5, "folded-in HR@5 \(hitsFolded)/\(users)")
    }
}
