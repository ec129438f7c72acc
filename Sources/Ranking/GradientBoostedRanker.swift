import CXGBoost
import Foundation

/// Why the learner refused or failed; `message` is XGBoost's own last error where it has one.
public struct RankerError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String
    public var description: String { "XGBoost \(operation): \(message)" }

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }
}

/// The learner's settings: LambdaMART (`rank:ndcg`) over groups of candidates, one group a user.
public struct RankerParameters: Codable, Sendable, Equatable {
    /// Boosting rounds (trees).
    public var trees = 100
    public var maxDepth = 6
    public var learningRate = 0.1
    public var minChildWeight = 1.0
    /// Row subsampling per tree (1: none).
    public var subsample = 1.0
    /// Fixed so that a run is reproducible (XGBoost's training is not deterministic across thread counts).
    public var threads = 1
    public var seed: UInt64 = 42

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RankerParameters()
        trees = try c.decodeIfPresent(Int.self, forKey: .trees) ?? d.trees
        maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth) ?? d.maxDepth
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        minChildWeight = try c.decodeIfPresent(Double.self, forKey: .minChildWeight) ?? d.minChildWeight
        subsample = try c.decodeIfPresent(Double.self, forKey: .subsample) ?? d.subsample
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }
}

/// Rows of features for ranking: `rows × names.count` floats, row-major; NaN is a missing value
/// (never 0, which is a real count here). Rows of one group (one user's candidates) are adjacent.
public struct FeatureMatrix: Sendable {
    public var names: [String]
    public var values: [Float]
    public var rows: Int { names.isEmpty ? 0 : values.count / names.count }

    public init(names: [String], values: [Float] = []) {
        self.names = names
        self.values = values
    }

    /// Appends one row; it must have one value per feature.
    public mutating func append(_ row: [Float]) {
        precondition(row.count == names.count, "a row needs \(names.count) values")
        values += row
    }

    /// The same rows without the features whose names `drop` accepts (for ablations).
    public func dropping(_ drop: (String) -> Bool) -> FeatureMatrix {
        let keep = names.indices.filter { !drop(names[$0]) }
        var out = FeatureMatrix(names: keep.map { names[$0] })
        out.values.reserveCapacity(rows * keep.count)
        for r in 0..<rows {
            let base = r * names.count
            for k in keep { out.values.append(values[base + k]) }
        }
        return out
    }
}

/// Gradient-boosted trees with a ranking objective (XGBoost's LambdaMART), behind a small Swift
/// type: feature matrices in, scores and per-feature contributions out, the model as bytes.
///
/// Prediction is safe from several threads at once for tree boosters (XGBoost ≥ 1.4); training
/// runs on one thread of the caller's.
public final class GradientBoostedRanker: @unchecked Sendable {
    private let handle: BoosterHandle
    /// The features the model was trained on, in column order.
    public let featureNames: [String]

    private init(handle: BoosterHandle, featureNames: [String]) {
        self.handle = handle
        self.featureNames = featureNames
    }

    deinit { XGBoosterFree(handle) }

    static func check(_ rc: Int32, _ operation: String) throws(RankerError) {
        guard rc == 0 else { throw RankerError(operation: operation, message: String(cString: XGBGetLastError())) }
    }

    /// A DMatrix over `m` (NaN missing), with labels and group sizes when given.
    static func matrix(_ m: FeatureMatrix, labels: [Float]? = nil, groups: [UInt32]? = nil) throws(RankerError) -> DMatrixHandle {
        var h: DMatrixHandle?
        try check(m.values.withUnsafeBufferPointer { XGDMatrixCreateFromMat($0.baseAddress, UInt64(m.rows), UInt64(m.names.count), .nan, &h) },
                  "creating a feature matrix")
        guard let h else { throw RankerError(operation: "creating a feature matrix", message: "no handle") }
        do throws(RankerError) {
            if let labels {
                guard labels.count == m.rows else { throw RankerError(operation: "labels", message: "\(labels.count) labels for \(m.rows) rows") }
                try check(labels.withUnsafeBufferPointer { XGDMatrixSetFloatInfo(h, "label", $0.baseAddress, UInt64(labels.count)) }, "setting labels")
            }
            if let groups {
                guard groups.reduce(0, { $0 + Int($1) }) == m.rows else {
                    throw RankerError(operation: "groups", message: "group sizes add up to \(groups.reduce(0) { $0 + Int($1) }), not \(m.rows) rows")
                }
                try check(groups.withUnsafeBufferPointer { XGDMatrixSetUIntInfo(h, "group", $0.baseAddress, UInt64(groups.count)) }, "setting groups")
            }
        } catch {
            XGDMatrixFree(h)
            throw error
        }
        return h
    }

    /// Trains LambdaMART on `features` with integer relevance `labels` (0 or 1 here) and `groups`
    /// (consecutive group sizes, one group a user).
    public static func train(
        _ features: FeatureMatrix, labels: [Float], groups: [UInt32], parameters p: RankerParameters
    ) throws(RankerError) -> GradientBoostedRanker {
        guard features.rows > 0 else { throw RankerError(operation: "training", message: "no rows to learn from") }
        guard labels.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
            throw RankerError(operation: "training", message: "rank:ndcg needs small non-negative integer labels")
        }
        let d = try matrix(features, labels: labels, groups: groups)
        defer { XGDMatrixFree(d) }
        var b: BoosterHandle?
        var dm: DMatrixHandle? = d
        try check(XGBoosterCreate(&dm, 1, &b), "creating the booster")
        guard let b else { throw RankerError(operation: "creating the booster", message: "no handle") }
        let ranker = GradientBoostedRanker(handle: b, featureNames: features.names)
        let settings: [(String, String)] = [
            ("objective", "rank:ndcg"), ("eval_metric", "ndcg@10"), ("tree_method", "hist"), ("booster", "gbtree"),
            ("max_depth", "\(p.maxDepth)"), ("eta", "\(p.learningRate)"), ("min_child_weight", "\(p.minChildWeight)"),
            ("subsample", "\(p.subsample)"), ("nthread", "\(max(1, p.threads))"), ("seed", "\(p.seed % UInt64(Int32.max))"),
            ("verbosity", "0"),
        ]
        for (k, v) in settings { try check(XGBoosterSetParam(b, k, v), "setting \(k)") }
        for i in 0..<p.trees { try check(XGBoosterUpdateOneIter(b, Int32(i), d), "boosting round \(i + 1)") }
        return ranker
    }

    /// Scores of every row (higher ranks first).
    public func scores(_ features: FeatureMatrix) throws(RankerError) -> [Float] {
        try predict(features, mask: 0, width: 1)
    }

    /// Per-feature contributions of every row (SHAP values): `rows × (features + 1)`, the last
    /// column the bias; a row's contributions add up to its score.
    public func contributions(_ features: FeatureMatrix) throws(RankerError) -> [Float] {
        try predict(features, mask: 4, width: featureNames.count + 1)
    }

    private func predict(_ features: FeatureMatrix, mask: Int32, width: Int) throws(RankerError) -> [Float] {
        guard features.names == featureNames else {
            throw RankerError(operation: "predicting", message: "the rows have features \(features.names), the model \(featureNames)")
        }
        guard features.rows > 0 else { return [] }
        let d = try Self.matrix(features)
        defer { XGDMatrixFree(d) }
        var n: UInt64 = 0
        var out: UnsafePointer<Float>?
        try Self.check(XGBoosterPredict(handle, d, mask, 0, 0, &n, &out), "predicting")
        guard let out, Int(n) == features.rows * width else {
            throw RankerError(operation: "predicting", message: "\(n) outputs for \(features.rows) rows of width \(width)")
        }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// The model in XGBoost's own JSON format.
    public func modelBytes() throws(RankerError) -> [UInt8] {
        var n: UInt64 = 0
        var p: UnsafePointer<CChar>?
        try Self.check(XGBoosterSaveModelToBuffer(handle, #"{"format": "json"}"#, &n, &p), "saving the model")
        guard let p else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(n)))
    }

    /// A model read back from `modelBytes()`.
    public static func load(_ bytes: [UInt8], featureNames: [String]) throws(RankerError) -> GradientBoostedRanker {
        var b: BoosterHandle?
        try check(XGBoosterCreate(nil, 0, &b), "creating the booster")
        guard let b else { throw RankerError(operation: "creating the booster", message: "no handle") }
        let ranker = GradientBoostedRanker(handle: b, featureNames: featureNames)
        try check(bytes.withUnsafeBytes { XGBoosterLoadModelFromBuffer(b, $0.baseAddress, UInt64(bytes.count)) }, "loading the model")
        var cols: UInt64 = 0
        try check(XGBoosterGetNumFeature(b, &cols), "reading the feature count")
        guard Int(cols) == featureNames.count else {
            throw RankerError(operation: "loading the model", message: "it has \(cols) features, the feature set \(featureNames.count)")
        }
        try check(XGBoosterSetParam(b, "nthread", "1"), "setting nthread")
        return ranker
    }
}
