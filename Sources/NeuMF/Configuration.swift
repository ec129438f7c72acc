/// Which of the three models of He et al. 2017 a parameter set describes.
public enum NeuMFKind: UInt32, Sendable, Hashable, CustomStringConvertible {
    /// Generalised matrix factorisation: element-wise product of embeddings, then the output layer.
    case gmf = 1
    /// Multi-layer perceptron over the concatenated user and item embeddings.
    case mlp = 2
    /// GMF and MLP fused under one output layer.
    case neumf = 3

    public var description: String {
        switch self {
        case .gmf: "GMF"
        case .mlp: "MLP"
        case .neumf: "NeuMF"
        }
    }
}

/// Shape of a model: kind, GMF factors, MLP tower sizes and the sizes of both index spaces.
///
/// `layers[0]` is the width of the concatenated MLP embeddings (each side gets `layers[0] / 2`),
/// `layers[1...]` are the hidden layer widths, as in the NCF reference code (`[64, 32, 16, 8]`).
public struct NeuMFConfiguration: Sendable, Hashable, CustomStringConvertible {
    public var kind: NeuMFKind
    /// GMF embedding width ("predictive factors"); ignored by `.mlp`.
    public var factors: Int
    /// MLP sizes, embeddings first; ignored by `.gmf`.
    public var layers: [Int]
    public var userCount: Int
    public var itemCount: Int

    public init(kind: NeuMFKind = .neumf, factors: Int = 8, layers: [Int] = [64, 32, 16, 8],
                userCount: Int, itemCount: Int) {
        self.kind = kind
        self.factors = factors
        self.layers = layers
        self.userCount = userCount
        self.itemCount = itemCount
    }

    /// Throws `NeuMFError.invalidConfiguration` when the shape cannot be built.
    public func validate() throws(NeuMFError) {
        if userCount <= 0 || itemCount <= 0 {
            throw .invalidConfiguration("userCount and itemCount must be positive (got \(userCount), \(itemCount))")
        }
        if userCount > Int(Int32.max) || itemCount > Int(Int32.max) {
            throw .invalidConfiguration("indices are Int32: at most \(Int32.max) users and items")
        }
        if kind != .mlp && (factors <= 0 || factors > 4096) {
            throw .invalidConfiguration("factors must be in 1...4096 for \(kind) (got \(factors))")
        }
        if kind != .gmf {
            if layers.count < 2 {
                throw .invalidConfiguration("layers needs the embedding width and at least one hidden layer (got \(layers))")
            }
            if layers[0] % 2 != 0 {
                throw .invalidConfiguration("layers[0] is split between user and item embeddings and must be even (got \(layers[0]))")
            }
            if layers.contains(where: { $0 <= 0 || $0 > 65536 }) {
                throw .invalidConfiguration("layer widths must be in 1...65536 (got \(layers))")
            }
        }
    }

    /// Width of the GMF part of each embedding row (0 for `.mlp`).
    public var gmfWidth: Int { kind == .mlp ? 0 : factors }
    /// Width of the MLP part of each embedding row (0 for `.gmf`).
    public var mlpEmbeddingWidth: Int { kind == .gmf ? 0 : layers[0] / 2 }
    /// Dimension of a relation vector: GMF product concatenated with the last MLP layer.
    public var relationDimension: Int { gmfWidth + (kind == .gmf ? 0 : layers[layers.count - 1]) }

    /// The same shape with another kind, as used for pretraining the two halves of NeuMF.
    public func with(kind: NeuMFKind) -> NeuMFConfiguration {
        var c = self
        c.kind = kind
        return c
    }

    public var description: String {
        switch kind {
        case .gmf: "GMF(f=\(factors), users=\(userCount), items=\(itemCount))"
        case .mlp: "MLP(layers=\(layers), users=\(userCount), items=\(itemCount))"
        case .neumf: "NeuMF(f=\(factors), layers=\(layers), users=\(userCount), items=\(itemCount))"
        }
    }
}

/// Offsets of every parameter block inside the one contiguous parameter buffer.
///
/// Each user (item) row holds its GMF part then its MLP part, so one sample touches one
/// contiguous row per side; dense weights are stored input-major (`in x out`), the layout
/// the forward product reads with unit stride.
struct ParameterLayout: Sendable, Hashable {
    let gmf: Int
    let mlp: Int
    let rowWidth: Int
    let users: Int
    let items: Int
    let userOffset: Int
    let itemOffset: Int
    let denseOffset: Int
    let layerIn: [Int]
    let layerOut: [Int]
    let weightOffset: [Int]
    let biasOffset: [Int]
    let outputOffset: Int
    let outputBiasOffset: Int
    /// Width of the vector the output layer reads (GMF product + last tower layer).
    let predictive: Int
    let total: Int

    init(_ c: NeuMFConfiguration) {
        gmf = c.gmfWidth
        mlp = c.mlpEmbeddingWidth
        rowWidth = gmf + mlp
        users = c.userCount
        items = c.itemCount
        userOffset = 0
        itemOffset = users * rowWidth
        denseOffset = itemOffset + items * rowWidth
        var ins: [Int] = [], outs: [Int] = [], wo: [Int] = [], bo: [Int] = []
        var cursor = denseOffset
        if c.kind != .gmf {
            for l in 1..<c.layers.count {
                ins.append(c.layers[l - 1])
                outs.append(c.layers[l])
                wo.append(cursor)
                cursor += c.layers[l - 1] * c.layers[l]
                bo.append(cursor)
                cursor += c.layers[l]
            }
        }
        layerIn = ins
        layerOut = outs
        weightOffset = wo
        biasOffset = bo
        predictive = gmf + (outs.last ?? 0)
        outputOffset = cursor
        outputBiasOffset = cursor + predictive
        total = outputBiasOffset + 1
    }

    var layerCount: Int { layerIn.count }
    var denseCount: Int { total - denseOffset }
    var lastWidth: Int { layerOut.last ?? 0 }
    var firstHidden: Int { layerOut.first ?? 0 }
}
