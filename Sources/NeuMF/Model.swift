/// A GMF, MLP or NeuMF model: its configuration and all parameters in one contiguous buffer.
///
/// A value type (copy-on-write array): training works on a private copy and hands back a new
/// model, so a model being served is never mutated underneath its readers.
public struct NeuMFModel: Sendable {
    public let configuration: NeuMFConfiguration
    /// All parameters: user rows, item rows (each `[gmf | mlp]`), dense layers, output layer.
    public internal(set) var parameters: [Float]
    let layout: ParameterLayout

    /// A freshly initialised model: embeddings ~ N(0, 0.01), dense layers LeCun-uniform, zero
    /// biases, as in the NCF reference code.
    public init(configuration: NeuMFConfiguration, seed: UInt64 = 0) throws(NeuMFError) {
        try configuration.validate()
        self.configuration = configuration
        let layout = ParameterLayout(configuration)
        self.layout = layout
        var p = [Float](repeating: 0, count: layout.total)
        var rng = SplitMix64(seed: seed, stream: 0x6E65756D66)
        for idx in 0..<layout.denseOffset { p[idx] = 0.01 * rng.normal() }
        for l in 0..<layout.layerCount {
            let limit = (3 / Float(layout.layerIn[l])).squareRoot()
            let w = layout.weightOffset[l]
            for idx in w..<(w + layout.layerIn[l] * layout.layerOut[l]) {
                p[idx] = (2 * rng.unitFloat() - 1) * limit
            }
        }
        let limit = (3 / Float(layout.predictive)).squareRoot()
        for idx in layout.outputOffset..<layout.outputBiasOffset {
            p[idx] = (2 * rng.unitFloat() - 1) * limit
        }
        parameters = p
    }

    /// A model from existing parameters (for example read from a file).
    public init(configuration: NeuMFConfiguration, parameters: [Float]) throws(NeuMFError) {
        try configuration.validate()
        let layout = ParameterLayout(configuration)
        guard parameters.count == layout.total else {
            throw .invalidConfiguration("\(configuration) needs \(layout.total) parameters, got \(parameters.count)")
        }
        self.configuration = configuration
        self.layout = layout
        self.parameters = parameters
    }

    /// Number of parameters.
    public var parameterCount: Int { layout.total }

    /// The embedding row of `item` (`[GMF | MLP]`): what "accounts like this one" compares.
    public func itemEmbedding(_ item: Int32) -> ArraySlice<Float> {
        let start = layout.itemOffset + Int(item) * layout.rowWidth
        return parameters[start..<(start + layout.rowWidth)]
    }
    /// Dimension of `relationVector(user:item:)`.
    public var relationDimension: Int { layout.predictive }

    /// NeuMF initialised from pretrained GMF and MLP models (He et al. 2017, section 3.4.1):
    /// embeddings and tower copied, output weights `[alpha * h_gmf, (1 - alpha) * h_mlp]`.
    public static func fused(gmf: NeuMFModel, mlp: NeuMFModel, alpha: Float = 0.5) throws(NeuMFError) -> NeuMFModel {
        let g = gmf.configuration, m = mlp.configuration
        guard g.kind == .gmf, m.kind == .mlp else {
            throw .incompatibleModels("expected a GMF and an MLP model, got \(g.kind) and \(m.kind)")
        }
        guard g.userCount == m.userCount, g.itemCount == m.itemCount else {
            throw .incompatibleModels("index spaces differ: \(g) vs \(m)")
        }
        let config = NeuMFConfiguration(kind: .neumf, factors: g.factors, layers: m.layers,
                                        userCount: g.userCount, itemCount: g.itemCount)
        try config.validate()
        let L = ParameterLayout(config), G = gmf.layout, M = mlp.layout
        var p = [Float](repeating: 0, count: L.total)
        let gp = gmf.parameters, mp = mlp.parameters
        for r in 0..<(L.users + L.items) {
            let dst = r * L.rowWidth, gs = r * G.rowWidth, ms = r * M.rowWidth
            for j in 0..<L.gmf { p[dst + j] = gp[gs + j] }
            for j in 0..<L.mlp { p[dst + L.gmf + j] = mp[ms + j] }
        }
        // Tower blocks have identical shapes and order in both layouts.
        let towerCount = M.outputOffset - M.denseOffset
        for j in 0..<towerCount { p[L.denseOffset + j] = mp[M.denseOffset + j] }
        for j in 0..<L.gmf { p[L.outputOffset + j] = alpha * gp[G.outputOffset + j] }
        for j in 0..<M.predictive { p[L.outputOffset + L.gmf + j] = (1 - alpha) * mp[M.outputOffset + j] }
        p[L.outputBiasOffset] = alpha * gp[G.outputBiasOffset] + (1 - alpha) * mp[M.outputBiasOffset]
        return try NeuMFModel(configuration: config, parameters: p)
    }

    /// Output logit for one pair by the plain definition (no caches); the reference the fast
    /// paths are tested against.
    public func logit(user: Int32, item: Int32) -> Float {
        let L = layout
        return parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let u = p + L.userOffset + Int(user) * L.rowWidth
            let i = p + L.itemOffset + Int(item) * L.rowWidth
            var phi = [Float](repeating: 0, count: L.predictive)
            for j in 0..<L.gmf { phi[j] = u[j] * i[j] }
            if L.layerCount > 0 {
                var x = Array(UnsafeBufferPointer(start: u + L.gmf, count: L.mlp))
                x += Array(UnsafeBufferPointer(start: i + L.gmf, count: L.mlp))
                for l in 0..<L.layerCount {
                    let w = p + L.weightOffset[l], b = p + L.biasOffset[l]
                    var y = [Float](repeating: 0, count: L.layerOut[l])
                    for o in 0..<L.layerOut[l] {
                        var s = b[o]
                        for k in 0..<L.layerIn[l] { s += x[k] * w[k * L.layerOut[l] + o] }
                        y[o] = max(s, 0)
                    }
                    x = y
                }
                for j in 0..<x.count { phi[L.gmf + j] = x[j] }
            }
            var s = p[L.outputBiasOffset]
            for j in 0..<L.predictive { s += phi[j] * p[L.outputOffset + j] }
            return s
        }
    }

    /// Predicted interaction probability for one pair (plain definition; use `NeuMFScorer` in bulk).
    public func probability(user: Int32, item: Int32) -> Float { sigmoid(logit(user: user, item: item)) }
}
