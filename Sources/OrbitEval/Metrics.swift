#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pure metric functions; every protocol in OrbitEval is built from these.
public enum Metrics {
    /// Hit (any relevant item in the top `k`), recall (share of the relevant items in the top `k`)
    /// and NDCG@k with binary relevance of a ranked list.
    public static func list<T: Hashable>(_ ranked: some Collection<T>, relevant: Set<T>, k: Int) -> (hit: Double, recall: Double, ndcg: Double) {
        guard !relevant.isEmpty else { return (0, 0, 0) }
        var hits = 0, dcg = 0.0
        for (rank, item) in ranked.prefix(k).enumerated() where relevant.contains(item) {
            hits += 1
            dcg += 1 / log2(Double(rank) + 2)
        }
        var idcg = 0.0
        for rank in 0..<min(k, relevant.count) { idcg += 1 / log2(Double(rank) + 2) }
        return (hits > 0 ? 1 : 0, Double(hits) / Double(relevant.count), dcg / idcg)
    }

    /// The rank given to an item whose score is not a finite number: after every other item and
    /// outside any top k, so a scorer that fails (NaN) or overflows (±infinity) earns nothing.
    public static let unranked = Int.max

    /// 0-based rank of a target among `others` when ties count against the target
    /// (pessimistic, as in the NCF evaluation where the held-out item is listed last).
    ///
    /// Non-finite scores (NaN, ±infinity) rank last: a non-finite target gets `unranked`, and a
    /// non-finite other never counts ahead of a finite target.
    public static func rank(of target: Float, among others: some Sequence<Float>) -> Int {
        guard target.isFinite else { return unranked }
        var r = 0
        for s in others where s.isFinite && s >= target { r += 1 }
        return r
    }

    /// 1 if the 0-based `rank` is inside the top `k`.
    public static func hitRate(rank: Int, k: Int) -> Double { rank < k ? 1 : 0 }

    /// NDCG@k of a single relevant item at 0-based `rank`: `1 / log2(rank + 2)` inside the top k.
    public static func ndcg(rank: Int, k: Int) -> Double { rank < k ? 1 / log2(Double(rank) + 2) : 0 }

    /// HR, recall and NDCG at `k` for a user with several relevant items at 0-based `ranks`.
    /// Recall divides by the number of relevant items; the ideal DCG puts them all first.
    public static func ranking(ranks: [Int], k: Int) -> (hit: Double, recall: Double, ndcg: Double) {
        guard !ranks.isEmpty else { return (0, 0, 0) }
        var hits = 0, dcg = 0.0
        for r in ranks where r < k {
            hits += 1
            dcg += 1 / log2(Double(r) + 2)
        }
        var idcg = 0.0
        for r in 0..<min(ranks.count, k) { idcg += 1 / log2(Double(r) + 2) }
        return (hits > 0 ? 1 : 0, Double(hits) / Double(ranks.count), dcg / idcg)
    }

    /// Area under the ROC curve (Mann-Whitney U with average ranks for ties); nil without
    /// both classes.
    ///
    /// Non-finite scores (NaN, ±infinity) rank below every finite one, and a positive with a
    /// non-finite score loses to every negative, even a non-finite one (a tie counts against
    /// it): a scorer that returns NaN everywhere has AUC 0, not 0.5.
    public static func auc(scores: [Float], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count)
        let pos = labels.lazy.filter { $0 }.count, neg = labels.count - pos
        guard pos > 0, neg > 0 else { return nil }
        let keys = scores.map { $0.isFinite ? $0 : -Float.infinity }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && keys[order[j + 1]] == keys[order[i]] { j += 1 }
            let avg = Double(i + j) / 2 + 1
            for t in i...j where labels[order[t]] { rankSum += avg }
            i = j + 1
        }
        var u = rankSum - Double(pos) * Double(pos + 1) / 2
        // Ties among non-finite scores counted half a win each for the positive; take it back.
        var badPos = 0, badNeg = 0
        for k in scores.indices where !scores[k].isFinite {
            if labels[k] { badPos += 1 } else { badNeg += 1 }
        }
        u -= 0.5 * Double(badPos) * Double(badNeg)
        return u / (Double(pos) * Double(neg))
    }

    /// Confusion-matrix metrics at `threshold` (score >= threshold predicts positive) plus AUC.
    ///
    /// A non-finite score (NaN, ±infinity) is no prediction, so it is counted wrong whatever
    /// the label: a false negative for a positive, a false positive for a negative (and it is
    /// counted in `nonFinite`). A scorer that returns NaN everywhere scores 0 on every metric.
    public static func classification(scores: [Float], labels: [Bool], threshold: Float = 0.5) -> ClassificationMetrics {
        precondition(scores.count == labels.count)
        var tp = 0, fp = 0, tn = 0, fn = 0, bad = 0
        for k in 0..<scores.count {
            guard scores[k].isFinite else {
                bad += 1
                if labels[k] { fn += 1 } else { fp += 1 }
                continue
            }
            let p = scores[k] >= threshold
            switch (p, labels[k]) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, false): tn += 1
            case (false, true): fn += 1
            }
        }
        return ClassificationMetrics(truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn,
                                     auc: auc(scores: scores, labels: labels), nonFinite: bad)
    }
}

/// Precision, recall, F1, accuracy and AUC of a binary classification test.
public struct ClassificationMetrics: Sendable, Equatable, CustomStringConvertible {
    public var truePositives: Int
    public var falsePositives: Int
    public var trueNegatives: Int
    public var falseNegatives: Int
    public var auc: Double?
    /// Pairs whose score was NaN or ±infinity; each is also counted as a wrong prediction.
    public var nonFinite: Int

    public init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int, auc: Double?,
                nonFinite: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
        self.auc = auc
        self.nonFinite = nonFinite
    }

    public var count: Int { truePositives + falsePositives + trueNegatives + falseNegatives }
    /// 0 when nothing was predicted positive.
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    public var f1: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }
    public var accuracy: Double { ratio(truePositives + trueNegatives, count) }

    public var description: String {
        "precision \(r4(precision)) recall \(r4(recall)) F1 \(r4(f1)) accuracy \(r4(accuracy)) AUC \(auc.map(r4) ?? "n/a") (n=\(count)\(nonFinite > 0 ? ", \(nonFinite) non-finite scores counted wrong" : ""))"
    }
}

func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }
func r4(_ x: Double) -> String {
    let v = (x * 10000).rounded() / 10000
    return "\(v)"
}
