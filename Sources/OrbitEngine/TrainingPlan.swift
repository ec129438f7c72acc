import Foundation
import NeuMF
import Ranking

/// Everything training decides, in one value: the follow model (kind, sizes, optimiser, negatives,
/// epochs and patience, batching, recency weighting, pretraining, refit), its relation index, the
/// click model, the seed and the threads.
///
/// `orbit train`'s flags and `orbit serve`'s configuration (`training`) both map onto this one type,
/// so they share one set of defaults: `TrainingPlan()` is the best model Orbit knows how to make
/// (BENCHMARKS.md, "Training defaults", says how each default was chosen on validation data).
/// Keys absent from a JSON plan keep their defaults, so a plan file names only what it changes and
/// stays readable when later versions add settings (the ranking stage will add its own section).
public struct TrainingPlan: Codable, Sendable, Equatable {
    /// The follow model (NeuMF on the follow graph, or on a pairs file).
    public var follow = FollowModelPlan()
    /// The relation-vector index the complex logic searches, built beside the follow model.
    public var relationIndex = RelationIndexPlan()
    /// The click model of the posts recommender.
    public var click = ClickModelPlan()
    /// The learned ranking stage of who to follow, fitted after the follow model.
    public var ranker = RankerPlan()
    /// Seeds the model's initialisation, negative sampling, shuffling and the validation sample.
    public var seed: UInt64 = 42
    /// Training threads (0: every core). 1 makes a run deterministic for its seed: the same plan
    /// and data give a byte-identical model file.
    public var threads = 0

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingPlan()
        follow = try c.decode(.follow, default: d.follow)
        relationIndex = try c.decode(.relationIndex, default: d.relationIndex)
        click = try c.decode(.click, default: d.click)
        ranker = try c.decode(.ranker, default: d.ranker)
        seed = try c.decode(.seed, default: d.seed)
        threads = try c.decode(.threads, default: d.threads)
    }

    /// Reads a plan from a JSON file (keys absent keep their defaults) and checks it.
    public static func load(file path: String) throws(EngineError) -> TrainingPlan {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableFile(path: path, cause: error.localizedDescription)
        }
        let plan: TrainingPlan
        do { plan = try JSONDecoder().decode(TrainingPlan.self, from: data) } catch {
            throw .invalidPlan(where: path, reason: "\(error)")
        }
        try plan.validate()
        return plan
    }

    /// Refuses settings no training can run with, naming the setting.
    public func validate() throws(EngineError) {
        func check(_ ok: Bool, _ key: String, _ why: String) throws(EngineError) {
            if !ok { throw .invalidPlan(where: key, reason: why) }
        }
        let f = follow
        try check(f.factors > 0, "follow.factors", "must be positive")
        try check(!f.layers.isEmpty && f.layers.allSatisfy { $0 > 0 } && f.layers[0] % 2 == 0, "follow.layers",
                  "must be positive integers, the first even (it is the width of both MLP embeddings together), e.g. [64, 32, 16, 8]")
        try check(f.negatives >= 1, "follow.negatives", "must be at least 1")
        try check(f.learningRate > 0 && f.learningRate.isFinite, "follow.learningRate", "must be a positive number")
        try check(f.finetuneLearningRate > 0 && f.finetuneLearningRate.isFinite, "follow.finetuneLearningRate", "must be a positive number")
        try check(f.l2 >= 0, "follow.l2", "must not be negative")
        try check(f.batchSize >= 1, "follow.batchSize", "must be at least 1")
        try check(f.epochs >= 1, "follow.epochs", "must be at least 1")
        try check(f.patience >= 1, "follow.patience", "must be at least 1")
        try check(f.learningRateDecay > 0 && f.learningRateDecay <= 1, "follow.learningRateDecay", "must be in (0, 1]")
        try check(f.recentWindow >= 0 && f.recentCopies >= 0, "follow.recentWindow/recentCopies", "must not be negative")
        try check(f.validationUsers >= 0, "follow.validationUsers", "must not be negative")
        try check(!f.refit || f.validationUsers > 0, "follow.refit", "needs validation users to choose the epoch count on")
        try check(relationIndex.m >= 2 && relationIndex.efConstruction >= 1 && relationIndex.ef >= 1, "relationIndex",
                  "m must be at least 2, efConstruction and ef at least 1")
        try check(relationIndex.maxEdges >= 0, "relationIndex.maxEdges", "must not be negative")
        try check((0.05...0.95).contains(click.split), "click.split", "must be in 0.05…0.95")
        try check(click.minimumInteractions >= 1, "click.minimumInteractions", "must be at least 1")
        try check(threads >= 0, "threads", "must not be negative (0: every core)")
        let r = ranker
        try check(r.parameters.trees >= 1 && r.parameters.maxDepth >= 1 && r.parameters.learningRate > 0, "ranker.parameters",
                  "trees and maxDepth must be at least 1, learningRate positive")
        try check(r.perSource >= 1 && r.users >= 1 && r.slices >= 1, "ranker.perSource/users/slices", "must be at least 1")
        try check(r.labelFraction > 0 && r.labelFraction < 0.5, "ranker.labelFraction", "must be in (0, 0.5)")
    }

    /// The optimiser options of one training stage.
    func options(learningRate: Float? = nil, optimizer: Optimizer? = nil) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = follow.epochs
        o.batchSize = follow.batchSize
        o.negatives = follow.negatives
        o.learningRate = learningRate ?? follow.learningRate
        o.optimizer = (optimizer ?? follow.optimizer).neumf
        o.learningRateDecay = follow.learningRateDecay
        o.l2 = follow.l2
        o.threads = threads
        o.patience = follow.patience
        o.seed = seed
        o.embeddingAdam = follow.embeddingAdam.neumf
        o.shuffleInstances = !follow.grouped
        return o
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent: how every settings type here reads
    /// a file that names only what it changes.
    package func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// The optimiser of a training stage.
public enum Optimizer: String, Codable, Sendable, CaseIterable {
    case adam, sgd
    var neumf: TrainingOptions.Optimizer { self == .adam ? .adam : .sgd }
}

/// How Adam treats the embedding rows a mini-batch does not touch.
public enum EmbeddingAdam: String, Codable, Sendable, CaseIterable {
    /// Row-wise Adam: moments of absent rows stay frozen.
    case lazy
    /// Rows catch up on the steps they missed when next touched, like Keras's dense Adam.
    case dense
    var neumf: TrainingOptions.EmbeddingAdam { self == .lazy ? .lazy : .dense }
}

/// The follow model's part of the plan.
public struct FollowModelPlan: Codable, Sendable, Equatable {
    /// Which model: GMF, MLP or the fused NeuMF.
    public var kind: ModelKind = .neumf
    /// Predictive factors of the GMF half.
    public var factors = 64
    /// The MLP tower; the first width is that of both MLP embeddings together.
    public var layers = [128, 64, 32, 16]
    /// Negatives sampled per positive, afresh each epoch, outside the user's training positives.
    public var negatives = 4
    public var learningRate: Float = 0.0005
    public var optimizer: Optimizer = .adam
    public var embeddingAdam: EmbeddingAdam = .dense
    public var l2: Float = 0
    public var batchSize = 256
    /// Maximum epochs; training stops earlier when validation stops improving for `patience` epochs.
    public var epochs = 20
    public var patience = 4
    /// Learning-rate multiplier per epoch (1: constant).
    public var learningRateDecay: Float = 1
    /// Each positive and its negatives in one mini-batch, instead of shuffling all instances.
    public var grouped = true
    /// Each user's latest `recentWindow` training pairs (by follow time; file order for pairs
    /// files) are seen `recentCopies` more times per epoch; 0 trains uniformly, as the paper does.
    /// Off by default: it validated better on ML-1M but worse on every time-stamped follow graph
    /// (BENCHMARKS.md, "Training defaults"); `--recent-window 10 --recent-copies 2` is the ML-1M recipe.
    public var recentWindow = 0
    public var recentCopies = 2
    /// Pretrain GMF and MLP, fuse them and fine-tune NeuMF, as in the paper.
    public var pretrain = false
    /// Learning rate and optimiser of the fine-tuning after pretraining.
    public var finetuneLearningRate: Float = 0.0005
    public var finetuneOptimizer: Optimizer? = nil
    /// After choosing the epoch count on validation, retrain from the same start on train +
    /// validation for that many epochs and keep that model.
    public var refit = true
    /// Users whose latest follow is held out for validation (early stopping and model choice)
    /// when training on the store's follow graph.
    public var validationUsers = 5_000

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FollowModelPlan()
        kind = try c.decode(.kind, default: d.kind)
        factors = try c.decode(.factors, default: d.factors)
        layers = try c.decode(.layers, default: d.layers)
        negatives = try c.decode(.negatives, default: d.negatives)
        learningRate = try c.decode(.learningRate, default: d.learningRate)
        optimizer = try c.decode(.optimizer, default: d.optimizer)
        embeddingAdam = try c.decode(.embeddingAdam, default: d.embeddingAdam)
        l2 = try c.decode(.l2, default: d.l2)
        batchSize = try c.decode(.batchSize, default: d.batchSize)
        epochs = try c.decode(.epochs, default: d.epochs)
        patience = try c.decode(.patience, default: d.patience)
        learningRateDecay = try c.decode(.learningRateDecay, default: d.learningRateDecay)
        grouped = try c.decode(.grouped, default: d.grouped)
        recentWindow = try c.decode(.recentWindow, default: d.recentWindow)
        recentCopies = try c.decode(.recentCopies, default: d.recentCopies)
        pretrain = try c.decode(.pretrain, default: d.pretrain)
        finetuneLearningRate = try c.decode(.finetuneLearningRate, default: d.finetuneLearningRate)
        finetuneOptimizer = try c.decodeIfPresent(Optimizer.self, forKey: .finetuneOptimizer)
        refit = try c.decode(.refit, default: d.refit)
        validationUsers = try c.decode(.validationUsers, default: d.validationUsers)
    }

    /// The model's shape for `users` × `items`.
    public func configuration(users: Int, items: Int) -> NeuMFConfiguration {
        NeuMFConfiguration(kind: kind.neumf, factors: factors, layers: layers, userCount: users, itemCount: items)
    }
}

/// The follow model's kind, by name (`gmf`, `mlp`, `neumf`) in plans, flags and reports.
public enum ModelKind: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case gmf, mlp, neumf
    public var neumf: NeuMFKind {
        switch self {
        case .gmf: .gmf
        case .mlp: .mlp
        case .neumf: .neumf
        }
    }
    public var description: String { rawValue }
}

/// When training builds the relation-vector index of the complex logic, and how.
public struct RelationIndexPlan: Codable, Sendable, Equatable {
    /// When to build the index.
    public enum Build: String, Codable, Sendable, CaseIterable {
        /// When the follow graph has at most `maxEdges` follows: minutes of build time and GiBs of
        /// memory beyond that (BENCHMARKS.md: 8.8 min and 2.2 GiB at 11M follows).
        case auto
        case always
        case never
    }
    public var build: Build = .auto
    /// The `auto` threshold, in follows.
    public var maxEdges = 2_000_000
    /// HNSW links per node and construction breadth.
    public var m = 16
    public var efConstruction = 64
    /// Search breadth at query time.
    public var ef = 64

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RelationIndexPlan()
        build = try c.decode(.build, default: d.build)
        maxEdges = try c.decode(.maxEdges, default: d.maxEdges)
        m = try c.decode(.m, default: d.m)
        efConstruction = try c.decode(.efConstruction, default: d.efConstruction)
        ef = try c.decode(.ef, default: d.ef)
    }

    /// Whether a graph of `edges` follows gets an index under this plan.
    public func builds(edges: Int) -> Bool {
        switch build {
        case .always: true
        case .never: false
        case .auto: edges <= maxEdges
        }
    }
}

/// How the click model is fitted from the store's impressions.
public struct ClickModelPlan: Codable, Sendable, Equatable {
    /// Share of the interaction log (by time) before the feature time; the impressions after it
    /// are the labels.
    public var split = 0.8
    /// Fewer interactions than this: no click model is fitted (the posts rank by the hot score).
    public var minimumInteractions = 100

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ClickModelPlan()
        split = try c.decode(.split, default: d.split)
        minimumInteractions = try c.decode(.minimumInteractions, default: d.minimumInteractions)
    }
}

/// How the ranking stage is trained: features as of an earlier cut of the store's own follow graph
/// (by time where follows carry times, else by masking), labels the follows made after it.
public struct RankerPlan: Codable, Sendable, Equatable {
    /// Fit the ranker after the follow model; false: the blend serves alone.
    public var enabled = true
    /// XGBoost's settings (trees, depth, learning rate, threads, seed).
    public var parameters = RankerParameters()
    /// Candidates taken from each source's list.
    public var perSource = 50
    /// Users whose later follows label the training rows, per split.
    public var users = 2_000
    /// Training splits: successive earlier time slices of the follow graph (random maskings
    /// without follow times); more splits, more rows.
    public var slices = 2
    /// The share of the latest follows (or, without times, of each sampled user's follows) that
    /// become labels.
    public var labelFraction = 0.1
    /// Train a second follow model on the ranker's earlier graph for the model features (its
    /// logit, relation cosine and model source). Off: those features are left out, and training
    /// costs one follow model less.
    public var modelFeatures = true
    /// Engaged authors keep their SPEC §2.2 places in front of the ranked union.
    public var engagedFirst = true
    /// Hold the latest slice out of the ranker's training and serve the ranker only if it beats
    /// the blend there (HR@10): the learned stage earns its slots on each deployment's own data.
    public var requireGain = true
    /// Once the ranker has passed the check, fit it again with the check slice's follows as one
    /// more slice, so the served ranker also learns from the latest follows (as the follow model is
    /// refitted on train + validation). Costs the features of one more slice and one more fit.
    public var refit = true

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RankerPlan()
        enabled = try c.decode(.enabled, default: d.enabled)
        parameters = try c.decode(.parameters, default: d.parameters)
        perSource = try c.decode(.perSource, default: d.perSource)
        users = try c.decode(.users, default: d.users)
        slices = try c.decode(.slices, default: d.slices)
        labelFraction = try c.decode(.labelFraction, default: d.labelFraction)
        modelFeatures = try c.decode(.modelFeatures, default: d.modelFeatures)
        engagedFirst = try c.decode(.engagedFirst, default: d.engagedFirst)
        requireGain = try c.decode(.requireGain, default: d.requireGain)
        refit = try c.decode(.refit, default: d.refit)
    }
}
