import Ranking
import Testing
import TestThreads

@Suite(.testThreads) struct RankerTests {
    /// 60 groups of 20 rows; a row is relevant when feature "signal" > 0.7; "noise" is random and
    /// "sparse" is missing (NaN) in most rows.
    static func data(seed: UInt64) -> (FeatureMatrix, [Float], [UInt32]) {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        var m = FeatureMatrix(names: ["signal", "noise", "sparse"])
        var labels: [Float] = []
        for _ in 0..<60 {
            for _ in 0..<20 {
                let s = next()
                m.append([s, next(), next() < 0.8 ? .nan : next()])
                labels.append(s > 0.7 ? 1 : 0)
            }
        }
        return (m, labels, Array(repeating: 20, count: 60))
    }

    @Test func learnsToRankTheRelevantRowsFirstAndExplainsEachScore() throws {
        let (m, labels, groups) = Self.data(seed: 1)
        var p = RankerParameters()
        p.trees = 30
        p.maxDepth = 3
        let ranker = try GradientBoostedRanker.train(m, labels: labels, groups: groups, parameters: p)
        let (test, testLabels, _) = Self.data(seed: 2)
        let scores = try ranker.scores(test)
        #expect(scores.count == test.rows)
        // Within each group, every relevant row scores above every irrelevant one (the signal is clean).
        var violations = 0
        for g in 0..<60 {
            let r = (g * 20)..<(g * 20 + 20)
            let pos = r.filter { testLabels[$0] == 1 }.map { scores[$0] }, neg = r.filter { testLabels[$0] == 0 }.map { scores[$0] }
            if let minPos = pos.min(), let maxNeg = neg.max(), minPos <= maxNeg { violations += 1 }
        }
        #expect(violations <= 3, "\(violations) of 60 groups rank an irrelevant row above a relevant one")
        // Contributions: one per feature plus the bias, adding up to the score; the signal carries it.
        let c = try ranker.contributions(test)
        #expect(c.count == test.rows * 4)
        var signalShare = 0.0
        for r in 0..<test.rows {
            let row = c[(r * 4)..<(r * 4 + 4)]
            #expect(abs(row.reduce(0, +) - scores[r]) < 1e-3)
            signalShare += Double(abs(row[row.startIndex])) / Double(max(1e-9, row.prefix(3).map(abs).reduce(0, +)))
        }
        #expect(signalShare / Double(test.rows) > 0.8)
    }

    @Test func aSavedModelScoresTheSameAndRefusesAnotherFeatureSet() throws {
        let (m, labels, groups) = Self.data(seed: 3)
        var p = RankerParameters()
        p.trees = 10
        let ranker = try GradientBoostedRanker.train(m, labels: labels, groups: groups, parameters: p)
        let bytes = try ranker.modelBytes()
        let back = try GradientBoostedRanker.load(bytes, featureNames: m.names)
        #expect(try back.scores(m) == ranker.scores(m))
        #expect(throws: RankerError.self) { try GradientBoostedRanker.load(bytes, featureNames: ["signal", "noise"]) }
        #expect(throws: RankerError.self) { try back.scores(m.dropping { $0 == "noise" }) }
        #expect(throws: RankerError.self) { try GradientBoostedRanker.load(Array("not a model".utf8), featureNames: m.names) }
        // Labels rank:ndcg cannot take are refused before XGBoost sees them.
        #expect(throws: RankerError.self) {
            try GradientBoostedRanker.train(m, labels: labels.map { $0 + 0.5 }, groups: groups, parameters: p)
        }
    }
}
