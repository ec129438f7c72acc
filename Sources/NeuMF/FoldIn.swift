/// Fold-in: a user row for a user the model has not seen, learnt from that user's positives
/// with every other parameter frozen, so the model serves new users before the next retraining.
///
/// The row has the layout of a model user row (`GMF factors ++ MLP user embedding`). Learning
/// it is a small convex-ish problem (only the user's side moves): Adam on binary cross-entropy
/// over the positives and `negatives` sampled items per positive, resampled every step.
public struct FoldInOptions: Sendable {
    public var steps = 40
    public var negatives = 4
    public var learningRate: Float = 0.05
    public var l2: Float = 1e-4
    public var seed: UInt64 = 11
    public init() {}
}

extension NeuMFModel {
    /// Learns a user row from `positives` (item indices). `exclude` lists items that must not
    /// be drawn as negatives besides the positives (for example the user itself).
    public func foldIn(positives: [Int32], exclude: [Int32] = [], options: FoldInOptions = FoldInOptions()) -> [Float] {
        let L = layout
        var row = [Float](repeating: 0, count: L.rowWidth)
        guard !positives.isEmpty, L.items > positives.count + exclude.count + 1 else { return row }
        var rng = SplitMix64(seed: options.seed, stream: 0x666F6C64)
        for j in 0..<row.count { row[j] = 0.01 * rng.normal() }
        let banned = Set(positives).union(exclude)
        var m = [Float](repeating: 0, count: L.rowWidth), v = [Float](repeating: 0, count: L.rowWidth)
        var grad = [Float](repeating: 0, count: L.rowWidth)
        let b1: Float = 0.9, b2: Float = 0.999
        var p1: Float = 1, p2: Float = 1
        for _ in 0..<options.steps {
            for j in 0..<grad.count { grad[j] = options.l2 * row[j] }
            var batch: [(Int32, Float)] = positives.map { ($0, 1) }
            for _ in 0..<(positives.count * options.negatives) {
                var item: Int32
                repeat { item = Int32(rng.below(L.items)) } while banned.contains(item)
                batch.append((item, 0))
            }
            for (item, label) in batch {
                let (logit, g, _) = rowGradient(row: row, item: item)
                let d = (sigmoid(logit) - label) / Float(batch.count)
                for j in 0..<grad.count { grad[j] += d * g[j] }
            }
            p1 *= b1
            p2 *= b2
            for j in 0..<row.count {
                m[j] = b1 * m[j] + (1 - b1) * grad[j]
                v[j] = b2 * v[j] + (1 - b2) * grad[j] * grad[j]
                row[j] -= options.learningRate * (m[j] / (1 - p1)) / ((v[j] / (1 - p2)).squareRoot() + 1e-7)
            }
        }
        return row
    }

    /// Logits of `items` for a user given by its row (a folded-in user).
    public func logits(userRow row: [Float], items: [Int32]) -> [Float] {
        items.map { rowGradient(row: row, item: $0, needGradient: false).logit }
    }

    /// Relation vectors (GMF product ++ last tower layer) of a row user with each item, concatenated.
    public func relationVectors(userRow row: [Float], items: [Int32]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(items.count * layout.predictive)
        for item in items { out += rowGradient(row: row, item: item, needGradient: false, relation: true).relation }
        return out
    }

    /// The logit of (row, item) and its gradient with respect to the row.
    func rowGradient(row: [Float], item: Int32, needGradient: Bool = true, relation: Bool = false)
        -> (logit: Float, gradient: [Float], relation: [Float])
    {
        let L = layout
        return parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let q = p + L.itemOffset + Int(item) * L.rowWidth
            let h = p + L.outputOffset
            var logit = p[L.outputBiasOffset]
            var g = [Float](repeating: 0, count: needGradient ? L.rowWidth : 0)
            var phi: [Float] = []
            for j in 0..<L.gmf {
                logit += h[j] * row[j] * q[j]
                if needGradient { g[j] = h[j] * q[j] }
                if relation { phi.append(row[j] * q[j]) }
            }
            guard L.layerCount > 0 else { return (logit, g, phi) }
            // Forward through the tower, keeping each layer's input and pre-activation.
            var inputs: [[Float]] = []
            var x = Array(row[L.gmf..<(L.gmf + L.mlp)]) + Array(UnsafeBufferPointer(start: q + L.gmf, count: L.mlp))
            var pre: [[Float]] = []
            for l in 0..<L.layerCount {
                inputs.append(x)
                let w = p + L.weightOffset[l], b = p + L.biasOffset[l]
                var z = [Float](repeating: 0, count: L.layerOut[l])
                for o in 0..<L.layerOut[l] {
                    var s = b[o]
                    for k in 0..<L.layerIn[l] { s += x[k] * w[k * L.layerOut[l] + o] }
                    z[o] = s
                }
                pre.append(z)
                x = z.map { max($0, 0) }
            }
            for j in 0..<x.count { logit += h[L.gmf + j] * x[j] }
            if relation { phi += x }
            guard needGradient else { return (logit, g, phi) }
            // Backward to the user half of the first layer's input.
            var dx = (0..<x.count).map { h[L.gmf + $0] }
            for l in stride(from: L.layerCount - 1, through: 0, by: -1) {
                let w = p + L.weightOffset[l]
                let dz = (0..<L.layerOut[l]).map { pre[l][$0] > 0 ? dx[$0] : 0 }
                var din = [Float](repeating: 0, count: L.layerIn[l])
                for k in 0..<L.layerIn[l] {
                    var s: Float = 0
                    for o in 0..<L.layerOut[l] { s += dz[o] * w[k * L.layerOut[l] + o] }
                    din[k] = s
                }
                dx = din
            }
            for j in 0..<L.mlp { g[L.gmf + j] = dx[j] }
            return (logit, g, phi)
        }
    }
}
