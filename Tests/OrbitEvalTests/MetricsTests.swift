import Foundation
import NeuMF
import OrbitEval
import Testing
import TestThreads

@Test(.testThreads) func hitRateAndNDCGByHand() {
    #expect(Metrics.rank(of: 0.5, among: [0.9, 0.1, 0.5, 0.7]) == 3) // tie counts against
    #expect(Metrics.hitRate(rank: 0, k: 10) == 1)
    #expect(Metrics.hitRate(rank: 9, k: 10) == 1)
    #expect(Metrics.hitRate(rank: 10, k: 10) == 0)
    #expect(Metrics.ndcg(rank: 0, k: 10) == 1)
    #expect(abs(Metrics.ndcg(rank: 2, k: 10) - 0.5) < 1e-12) // 1/log2(4)
    #expect(Metrics.ndcg(rank: 10, k: 10) == 0)
    // Two relevant items at ranks 0 and 3 with k = 3: one hit; DCG 1, IDCG 1 + 1/log2(3).
    let m = Metrics.ranking(ranks: [0, 3], k: 3)
    #expect(m.hit == 1)
    #expect(m.recall == 0.5)
    #expect(abs(m.ndcg - 1 / (1 + 1 / log2(3.0))) < 1e-12)
}

@Test(.testThreads) func aucAndClassificationByHand() {
    // Positives 0.9, 0.4; negatives 0.8, 0.3, 0.1: pairs won 1 + 1 + 1 + 0 + 1 + 1 = 5 of 6.
    let scores: [Float] = [0.9, 0.8, 0.4, 0.3, 0.1]
    let labels = [true, false, true, false, false]
    #expect(abs(Metrics.auc(scores: scores, labels: labels)! - 5.0 / 6.0) < 1e-12)
    // A tie between a positive and a negative counts one half.
    #expect(abs(Metrics.auc(scores: [0.5, 0.5], labels: [true, false])! - 0.5) < 1e-12)
    #expect(Metrics.auc(scores: [0.1], labels: [true]) == nil)
    // Threshold 0.5: predicted positive 0.9 (TP), 0.8 (FP); negative 0.4 (FN), 0.3, 0.1 (TN).
    let c = Metrics.classification(scores: scores, labels: labels)
    #expect(c.truePositives == 1 && c.falsePositives == 1 && c.falseNegatives == 1 && c.trueNegatives == 2)
    #expect(c.precision == 0.5)
    #expect(c.recall == 0.5)
    #expect(c.f1 == 0.5)
    #expect(c.accuracy == 0.6)
}

/// Scores item i for user u as a fixed table, to check the protocols end to end.
struct TableScorer: RecommendationScorer {
    let table: [[Float]]
    func score(user: Int32, items: UnsafeBufferPointer<Int32>, into scores: UnsafeMutableBufferPointer<Float>) {
        for k in 0..<items.count { scores[k] = table[Int(user)][Int(items[k])] }
    }
}

@Test(.testThreads) func leaveOneOutProtocol() {
    // user 0: held-out 3 scores 0.6, beaten by 0.9 only -> rank 1. user 1: held-out scores lowest -> rank 3.
    let table: [[Float]] = [[0.9, 0.1, 0.2, 0.6, 0.3], [0.5, 0.4, 0.3, 0.1, 0.2]]
    let cases = [LeaveOneOutCase(user: 0, heldOut: 3, negatives: [0, 1, 2, 3]),
                 LeaveOneOutCase(user: 1, heldOut: 3, negatives: [0, 1, 2])]
    let r = LeaveOneOut.evaluate(cases: cases, scorer: TableScorer(table: table), k: 2, threads: 2)
    #expect(r.users == 2)
    #expect(r.hitRate == 0.5)
    #expect(abs(r.ndcg - (1 / log2(3.0)) / 2) < 1e-12)
    // The closure adapter gives the same answer.
    let closure = ClosureScorer { u, items in items.map { table[Int(u)][Int($0)] } }
    #expect(LeaveOneOut.evaluate(cases: cases, scorer: closure, k: 2, threads: 1) == r)
}

@Test(.testThreads) func fullRankingExcludesTrainPositives() throws {
    // 6 items. User 0: train {0}, held-out {2, 4}. Scores make item 0 top (excluded) then 2, 1, 4...
    let table: [[Float]] = [[0.99, 0.7, 0.8, 0.1, 0.6, 0.2]]
    let train = try ItemSets(userCount: 1, users: [0], items: [0])
    let held = try ItemSets(userCount: 1, users: [0, 0], items: [2, 4])
    let r = FullRanking.evaluate(heldOut: held, exclude: train, itemCount: 6, scorer: TableScorer(table: table), ks: [1, 2, 3])
    // Ranking without item 0: 2 (0.8), 1 (0.7), 4 (0.6), 5, 3 -> held-out ranks 0 and 2.
    #expect(r[0].hitRate == 1 && r[0].recall == 0.5 && r[0].ndcg == 1)
    #expect(r[1].recall == 0.5)
    #expect(abs(r[1].ndcg - 1 / (1 + 1 / log2(3.0))) < 1e-12)
    #expect(r[2].recall == 1)
    #expect(abs(r[2].ndcg - (1 + 0.5) / (1 + 1 / log2(3.0))) < 1e-12)
}

@Test(.testThreads) func classificationProtocolSamplesTrueNegatives() throws {
    let positives = PairList(users: [0, 0, 1], items: [1, 2, 3])
    let exclusion = try ItemSets(userCount: 2, users: positives.users + [1], items: positives.items + [0])
    let set = Classification.makeTestSet(users: positives.users, items: positives.items, exclusion: exclusion,
                                         itemCount: 10, negativesPerPositive: 4, seed: 3)
    #expect(set.users.count == 15)
    #expect(set.labels.filter { $0 }.count == 3)
    for k in 0..<set.users.count where !set.labels[k] {
        #expect(!exclusion.contains(user: set.users[k], item: set.items[k]))
    }
    // A perfect scorer: 1 for positives, 0 otherwise.
    let pos = Set(zip(positives.users, positives.items).map { "\($0.0)-\($0.1)" })
    let perfect = ClosureScorer { u, items in items.map { pos.contains("\(u)-\($0)") ? 1 : 0 } }
    let m = Classification.evaluate(set, scorer: perfect, threads: 2)
    #expect(m.precision == 1 && m.recall == 1 && m.accuracy == 1 && m.auc == 1)
}

@Test(.testThreads) func parsesNCFFiles() throws {
    let pairs = try NCFFiles.parsePairs("0\t31\t5\t978300760\n# comment\n\n1 22\r\n")
    #expect(pairs == PairList(users: [0, 1], items: [31, 22]))
    let lines = try NCFFiles.parsePairs(lines: ["0\t1", "2\t3\t4"])
    #expect(lines == PairList(users: [0, 2], items: [1, 3]))
    let cases = try NCFFiles.parseNegatives("(0,25)\t1064\t174\n(1,133)\t5\n")
    #expect(cases == [LeaveOneOutCase(user: 0, heldOut: 25, negatives: [1064, 174]),
                      LeaveOneOutCase(user: 1, heldOut: 133, negatives: [5])])
    #expect(try NCFFiles.parseNegatives(lines: ["(3,4)\t7"]) == [LeaveOneOutCase(user: 3, heldOut: 4, negatives: [7])])
    #expect(throws: EvalError.malformedLine(line: 2, content: "1\tx", reason: "expected a non-negative item index")) {
        try NCFFiles.parsePairs("0\t1\n1\tx\n")
    }
    #expect(throws: EvalError.self) { try NCFFiles.parseNegatives("0,25\t3\n") }
    #expect(throws: EvalError.self) { try NCFFiles.parsePairs("-1\t3\n") }
}

@Test(.testThreads) func splitLastHoldsOutTheLastPairPerUser() {
    let (train, held) = LeaveOneOut.splitLast(users: [0, 0, 1, 0, 2, 2], items: [1, 2, 3, 4, 5, 6])
    #expect(held == PairList(users: [0, 2], items: [4, 6]))
    #expect(train == PairList(users: [0, 0, 1, 2], items: [1, 2, 3, 5]))
}

@Test(.testThreads) func neuMFScorerPlugsIntoTheProtocols() throws {
    let config = NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: 3, itemCount: 20)
    let model = try NeuMFModel(configuration: config, seed: 1)
    let scorer = NeuMFScorer(model: model)
    let cases = [LeaveOneOutCase(user: 1, heldOut: 3, negatives: Array(4..<20))]
    let r = LeaveOneOut.evaluate(cases: cases, scorer: scorer, k: 20)
    #expect(r.hitRate == 1)
    let direct = scorer.score(user: 1, candidates: [3] + Array(4..<20))
    let rank = Metrics.rank(of: direct[0], among: direct.dropFirst())
    #expect(abs(r.ndcg - Metrics.ndcg(rank: rank, k: 20)) < 1e-12)
}
