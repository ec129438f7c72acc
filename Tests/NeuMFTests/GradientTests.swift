import Foundation
import Testing
@testable import NeuMF
import TestThreads

/// Independent Double-precision reference of the model's mean binary cross-entropy.
func referenceLoss(_ p: [Double], _ L: ParameterLayout, users: [Int32], items: [Int32], labels: [Float]) -> Double {
    var total = 0.0
    for b in 0..<users.count {
        let u = L.userOffset + Int(users[b]) * L.rowWidth
        let i = L.itemOffset + Int(items[b]) * L.rowWidth
        var phi = [Double]()
        for j in 0..<L.gmf { phi.append(p[u + j] * p[i + j]) }
        if L.layerCount > 0 {
            var x = (0..<L.mlp).map { p[u + L.gmf + $0] } + (0..<L.mlp).map { p[i + L.gmf + $0] }
            for l in 0..<L.layerCount {
                var y = [Double](repeating: 0, count: L.layerOut[l])
                for o in 0..<L.layerOut[l] {
                    var s = p[L.biasOffset[l] + o]
                    for k in 0..<L.layerIn[l] { s += x[k] * p[L.weightOffset[l] + k * L.layerOut[l] + o] }
                    y[o] = max(s, 0)
                }
                x = y
            }
            phi += x
        }
        var z = p[L.outputBiasOffset]
        for j in 0..<L.predictive { z += phi[j] * p[L.outputOffset + j] }
        let y = Double(labels[b])
        total += max(z, 0) - z * y + log1p(exp(-abs(z)))
    }
    return total / Double(users.count)
}

/// Analytic gradient from the Float worker, scattered into a full-length vector.
func analyticGradient(_ model: inout NeuMFModel, users: [Int32], items: [Int32], labels: [Float]) -> ([Double], Double) {
    let L = model.layout
    let w = Worker(layout: L, batchCapacity: users.count)
    for b in 0..<users.count { w.bu[b] = users[b]; w.bi[b] = items[b]; w.by[b] = labels[b] }
    var grad = [Double](repeating: 0, count: L.total)
    let loss = model.parameters.withUnsafeMutableBufferPointer { pb in
        w.forwardBackward(users.count, pb.baseAddress!)
    }
    for k in 0..<L.denseCount { grad[L.denseOffset + k] = Double(w.denseGrad[k]) }
    for s in 0..<w.userSlots {
        let u = Int(w.touchedUsers[s])
        for j in 0..<L.rowWidth { grad[L.userOffset + u * L.rowWidth + j] = Double(w.userGrad[s * L.rowWidth + j]) }
    }
    for s in 0..<w.itemSlots {
        let i = Int(w.touchedItems[s])
        for j in 0..<L.rowWidth { grad[L.itemOffset + i * L.rowWidth + j] = Double(w.itemGrad[s * L.rowWidth + j]) }
    }
    return (grad, loss / Double(users.count))
}

struct Block {
    let name: String
    let indices: [Int]
}

func blocks(_ L: ParameterLayout) -> [Block] {
    var gmfRows: [Int] = [], mlpRows: [Int] = []
    for r in 0..<(L.users + L.items) {
        for j in 0..<L.rowWidth {
            if j < L.gmf { gmfRows.append(r * L.rowWidth + j) } else { mlpRows.append(r * L.rowWidth + j) }
        }
    }
    var out: [Block] = []
    if !gmfRows.isEmpty { out.append(Block(name: "GMF embeddings", indices: gmfRows)) }
    if !mlpRows.isEmpty { out.append(Block(name: "MLP embeddings", indices: mlpRows)) }
    for l in 0..<L.layerCount {
        out.append(Block(name: "dense \(l) weights", indices: Array(L.weightOffset[l]..<L.biasOffset[l])))
        out.append(Block(name: "dense \(l) bias", indices: Array(L.biasOffset[l]..<(L.biasOffset[l] + L.layerOut[l]))))
    }
    out.append(Block(name: "output", indices: Array(L.outputOffset..<L.total)))
    return out
}

/// Largest |analytic - numeric| / (1e-3 + |numeric|) per block, checking every parameter.
func gradientErrors(config: NeuMFConfiguration, seed: UInt64) throws -> [(String, Double, Double)] {
    var model = try NeuMFModel(configuration: config, seed: seed)
    var rng = SplitMix64(seed: seed)
    // Larger parameters than the default init, so every gradient is well above rounding noise.
    for k in 0..<model.parameters.count { model.parameters[k] = (rng.unitFloat() - 0.5) * 1.2 }
    let n = 7
    let users = (0..<n).map { Int32($0 % config.userCount) }
    let items = (0..<n).map { Int32(($0 * 3 + 1) % config.itemCount) }
    let labels: [Float] = (0..<n).map { $0 % 2 == 0 ? 1 : 0 }
    let (analytic, floatLoss) = analyticGradient(&model, users: users, items: items, labels: labels)
    let L = model.layout
    let base = model.parameters.map(Double.init)
    let refLoss = referenceLoss(base, L, users: users, items: items, labels: labels)
    #expect(abs(refLoss - floatLoss) < 1e-5 * max(1, refLoss), "Float forward loss \(floatLoss) vs reference \(refLoss)")
    var results: [(String, Double, Double)] = []
    for block in blocks(L) {
        var worst = 0.0, largest = 0.0
        for k in block.indices {
            var p = base
            let h = 1e-6
            p[k] = base[k] + h
            let lp = referenceLoss(p, L, users: users, items: items, labels: labels)
            p[k] = base[k] - h
            let lm = referenceLoss(p, L, users: users, items: items, labels: labels)
            let numeric = (lp - lm) / (2 * h)
            worst = max(worst, abs(analytic[k] - numeric) / (1e-3 + abs(numeric)))
            largest = max(largest, abs(numeric))
        }
        results.append((block.name, worst, largest))
    }
    return results
}

@Test(.testThreads, arguments: [
    NeuMFConfiguration(kind: .neumf, factors: 3, layers: [6, 5, 3], userCount: 4, itemCount: 6),
    NeuMFConfiguration(kind: .neumf, factors: 8, layers: [32, 16, 8], userCount: 3, itemCount: 5),
    NeuMFConfiguration(kind: .neumf, factors: 16, layers: [64, 32, 16, 8], userCount: 3, itemCount: 4),
    NeuMFConfiguration(kind: .gmf, factors: 5, layers: [], userCount: 3, itemCount: 4),
    NeuMFConfiguration(kind: .mlp, factors: 0, layers: [10, 9, 17], userCount: 3, itemCount: 4),
])
func gradientMatchesFiniteDifferences(config: NeuMFConfiguration) throws {
    for (name, err, largest) in try gradientErrors(config: config, seed: 11) {
        #expect(err < 2e-3, "\(config) block \(name): relative error \(err)")
        #expect(largest > 1e-4, "\(config) block \(name): gradient vanishes, check is vacuous")
    }
}

@Test(.testThreads) func forwardMatchesReferenceLogit() throws {
    let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [32, 16, 8], userCount: 9, itemCount: 11)
    var model = try NeuMFModel(configuration: config, seed: 3)
    var rng = SplitMix64(seed: 5)
    for k in 0..<model.parameters.count { model.parameters[k] = (rng.unitFloat() - 0.5) }
    let L = model.layout
    let w = Worker(layout: L, batchCapacity: 20)
    for b in 0..<20 { w.bu[b] = Int32(b % 9); w.bi[b] = Int32((b * 7) % 11) }
    model.parameters.withUnsafeMutableBufferPointer { w.forward(20, $0.baseAddress!) }
    for b in 0..<20 {
        let x = model.parameters.withUnsafeBufferPointer { pb in
            pb[L.outputBiasOffset] + (0..<L.predictive).reduce(Float(0)) { $0 + w.phi[b * L.predictive + $1] * pb[L.outputOffset + $1] }
        }
        let r = model.logit(user: Int32(b % 9), item: Int32((b * 7) % 11))
        #expect(abs(x - r) < 1e-4 * max(1, abs(r)))
    }
}

/// The closed-form replay of missed steps must equal dense Adam run step by step with zero
/// gradients in between (bias correction held fixed, as late in training).
@Test(.testThreads) func catchUpMatchesDenseAdamSteps() {
    let n = 11, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-7, lr: Float = 0.01
    var rng = SplitMix64(seed: 9)
    let g0 = (0..<n).map { _ in rng.unitFloat() - 0.5 }, g1 = (0..<n).map { _ in rng.unitFloat() - 0.5 }
    for k in [1, 5, 37, 600] {
        // Reference: one step with g0, k zero-gradient steps, one step with g1.
        var p = [Float](repeating: 0.3, count: n), m = [Float](repeating: 0, count: n), v = m
        func dense(_ g: [Float]) {
            for j in 0..<n {
                m[j] = b1 * m[j] + (1 - b1) * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                p[j] -= lr * m[j] / (v[j].squareRoot() + eps)
            }
        }
        dense(g0)
        let p1 = p, m1 = m, v1 = v
        for _ in 0..<k { dense([Float](repeating: 0, count: n)) }
        dense(g1)
        var q = p1, qm = m1, qv = v1, g = g1
        CatchUp(beta1: b1, beta2: b2).step(&q, &g, &qm, &qv, n, k, lr, eps)
        for j in 0..<n {
            #expect(abs(q[j] - p[j]) < 1e-5 * max(1, abs(p[j])), "k=\(k) p[\(j)] \(q[j]) vs \(p[j])")
            #expect(abs(qm[j] - m[j]) < 1e-6, "k=\(k) m[\(j)]")
            #expect(abs(qv[j] - v[j]) < 1e-7 + 1e-4 * v[j], "k=\(k) v[\(j)]")
        }
    }
}
