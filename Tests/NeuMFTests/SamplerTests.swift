import Testing
@testable import NeuMF
import TestThreads

@Test(.testThreads) func samplerNeverReturnsAPositiveOfAnySplit() throws {
    var rng = SplitMix64(seed: 9)
    let users = 40, items = 50
    var us: [Int32] = [], its: [Int32] = []
    for u in 0..<users {
        // Densities from empty to almost full, so both sampling paths run.
        let k = (u * 49) / (users - 1)
        for i in 0..<items where rng.below(items) < k { us.append(Int32(u)); its.append(Int32(i)) }
    }
    // Split the positives three ways; the exclusion must cover all of them.
    let train = (0..<us.count).filter { $0 % 3 == 0 }, val = (0..<us.count).filter { $0 % 3 == 1 }, test = (0..<us.count).filter { $0 % 3 == 2 }
    let exclusion = try ItemSets(userCount: users, pairs: [train, val, test].map { idx in (idx.map { us[$0] }, idx.map { its[$0] }) })
    let sampler = NegativeSampler(itemCount: items, exclusion: exclusion)
    var positives = Set<Int>()
    for k in 0..<us.count { positives.insert(Int(us[k]) * items + Int(its[k])) }
    var seen = [Set<Int32>](repeating: [], count: users)
    for u in 0..<users {
        for _ in 0..<400 {
            if let x = sampler.sample(for: Int32(u), using: &rng) {
                #expect(!positives.contains(u * items + Int(x)), "user \(u) got positive \(x)")
                #expect(x >= 0 && Int(x) < items)
                seen[u].insert(x)
            } else {
                #expect(exclusion.count(of: Int32(u)) == items)
            }
        }
        // Uniform over the allowed items: with 400 draws every allowed item shows up.
        #expect(seen[u].count == items - exclusion.count(of: Int32(u)))
    }
    // The bit-matrix path used by the trainer agrees with the sorted lists.
    let bits = exclusion.bitMatrix(itemCount: items)!
    bits.withUnsafeBufferPointer { bp in
        exclusion.withView { view in
            var v = view
            v.bits = bp.baseAddress!
            v.bitStride = items
            for u in 0..<users {
                for i in 0..<items {
                    #expect(v.contains(user: Int32(u), item: Int32(i)) == view.contains(user: Int32(u), item: Int32(i)))
                }
                for _ in 0..<50 {
                    let x = v.sampleNegative(user: Int32(u), itemCount: items, rng: &rng)
                    #expect(x < 0 || !positives.contains(u * items + Int(x)))
                }
            }
        }
    }
}

@Test(.testThreads) func itemSetsSortAndDeduplicate() throws {
    let s = try ItemSets(userCount: 3, users: [2, 0, 2, 2, 0], items: [5, 1, 3, 5, 1])
    #expect(Array(s.items(of: 0)) == [1])
    #expect(Array(s.items(of: 1)) == [])
    #expect(Array(s.items(of: 2)) == [3, 5])
    #expect(s.contains(user: 2, item: 3) && !s.contains(user: 2, item: 4))
    #expect(throws: NeuMFError.self) { try ItemSets(userCount: 2, users: [3], items: [0]) }
}

@Test(.testThreads) func trainerRefusesExclusionMissingPositives() throws {
    let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: 2, itemCount: 4)
    let model = try NeuMFModel(configuration: config)
    let data = TrainingData(users: [0, 1], items: [1, 2], exclusion: try ItemSets(userCount: 2, users: [0], items: [1]))
    #expect(throws: NeuMFError.self) { try NeuMFTrainer.train(model, data: data) }
}
