import ArgumentParser
import Foundation
import OrbitEngine
import OrbitRecommend
import OrbitStore

extension ModelLogic: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}
extension EmbeddingAdam: ExpressibleByArgument {}
extension RelationIndexPlan.Build: ExpressibleByArgument {}
extension Durability: ExpressibleByArgument {}

/// The graph-expansion bound, for the commands that build who-to-follow lists.
struct ExpansionOptions: ParsableArguments {
    @Option(help: "Edges read per graph-expansion step at most (latency against reach).")
    var expansionEdges: Int = ExpansionLimits().edgesPerStep

    func validate() throws {
        guard expansionEdges > 0 else { throw ValidationError("--expansion-edges must be positive (it bounds the edges read per expansion step)") }
    }

    var limits: ExpansionLimits {
        var l = ExpansionLimits()
        l.edgesPerStep = expansionEdges
        return l
    }
}

/// Options shared by commands that open the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store: a SQLite file path or a postgres://user[:password]@host[:port]/database URL.")
    var store: String = "orbit-data/orbit.sqlite"

    var location: StoreLocation { StoreLocation(store) }
}

/// The follow model files a command reads.
struct ModelFileOptions: ParsableArguments {
    @Option(help: "Trained follow model (orbit train); its relation index is read from beside it when present.")
    var model: String = "orbit-data/follow.model"
    @Option(help: "Click model (JSON, orbit train clicks); used when the file exists.")
    var clickModel: String = "orbit-data/click.json"

    /// The models there are: none when no file exists; a file that exists but cannot be used is an error.
    func load() throws -> ModelSet {
        let files = ModelFiles(followModel: model, clickModel: clickModel)
        var set = try files.loadFollow() ?? ModelSet()
        if let (c, status) = try files.loadClick() {
            set.click = c
            set.clickStatus = status
        }
        return set
    }
}

/// A `TrainingPlan` from `--plan FILE` (or the defaults) with any of these flags on top. Every
/// flag left out keeps the plan's value, so `orbit train` alone trains with the defaults that
/// `orbit serve` retrains with.
struct PlanOptions: ParsableArguments {
    private static let d = TrainingPlan()

    @Option(help: "A training plan (JSON, keys as in TrainingPlan; absent keys keep their defaults); the flags below override it.")
    var plan: String?
    @Option(help: "Model kind: gmf, mlp or neumf (default \(d.follow.kind)).") var kind: ModelKind?
    @Option(help: "GMF factors (default \(d.follow.factors)).") var factors: Int?
    @Option(help: "MLP tower, comma-separated; the first is the width of both MLP embeddings together (default \(d.follow.layers.map(String.init).joined(separator: ","))).")
    var layers: String?
    @Option(help: "Negatives sampled per positive, afresh each epoch, outside the user's training positives (default \(d.follow.negatives)).")
    var negatives: Int?
    @Option(help: "Learning rate (default \(d.follow.learningRate)).") var lr: Float?
    @Option(help: "Optimiser: adam or sgd (default \(d.follow.optimizer.rawValue)).") var optimizer: Optimizer?
    @Option(help: "Embedding optimiser: lazy (row-wise Adam, moments of absent rows frozen) or dense (rows catch up on missed steps, like Keras) (default \(d.follow.embeddingAdam.rawValue)).")
    var embeddingAdam: EmbeddingAdam?
    @Option(help: "L2 regularisation (default \(d.follow.l2)).") var l2: Float?
    @Option(help: "Mini-batch size (default \(d.follow.batchSize)).") var batch: Int?
    @Option(help: "Maximum epochs; training stops earlier when validation stops improving (default \(d.follow.epochs)).") var epochs: Int?
    @Option(help: "Epochs without a better validation score before stopping (default \(d.follow.patience)).") var patience: Int?
    @Option(help: "Learning-rate multiplier per epoch, 1: constant (default \(d.follow.learningRateDecay)).") var lrDecay: Float?
    @Flag(inversion: .prefixedNo, help: "Put each positive and its negatives in one mini-batch instead of shuffling all instances (default \(d.follow.grouped)).")
    var grouped: Bool?
    @Option(help: "Train on each user's latest N pairs (follow time; file order for pairs files) --recent-copies more times; 0: uniform, as in the paper (default \(d.follow.recentWindow)).")
    var recentWindow: Int?
    @Option(help: "Extra copies of each recent pair per epoch (default \(d.follow.recentCopies)).") var recentCopies: Int?
    @Flag(inversion: .prefixedNo, help: "Pretrain GMF and MLP, fuse them and fine-tune NeuMF, as in the paper (default \(d.follow.pretrain)).")
    var pretrain: Bool?
    @Option(help: "Learning rate of the fine-tuning after pretraining (default \(d.follow.finetuneLearningRate)).") var finetuneLr: Float?
    @Option(help: "Optimiser of the fine-tuning after pretraining (default: --optimizer).") var finetuneOptimizer: Optimizer?
    @Flag(inversion: .prefixedNo, help: "After choosing the epoch count on validation, retrain from the same start on train + validation for that many epochs and keep that model (default \(d.follow.refit)).")
    var refit: Bool?
    @Option(help: "Users whose latest follow is held out for validation when training on the store (default \(d.follow.validationUsers)).")
    var validationUsers: Int?
    @Option(help: "Build the relation index of the complex logic: auto (graphs of at most \(d.relationIndex.maxEdges) follows), always or never (default \(d.relationIndex.build.rawValue)).")
    var relationIndex: RelationIndexPlan.Build?
    @Option(help: "Random seed (default \(d.seed)).") var seed: UInt64?
    @Option(help: "Threads; 0: every core, 1: deterministic for the seed (default \(d.threads)).") var threads: Int?

    /// The plan these options describe, checked.
    func resolved() throws -> TrainingPlan {
        var p = try plan.map { try TrainingPlan.load(file: $0) } ?? TrainingPlan()
        if let kind { p.follow.kind = kind }
        if let factors { p.follow.factors = factors }
        if let layers {
            let parts = layers.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.allSatisfy({ $0 != nil }) else { throw ValidationError("--layers takes comma-separated integers, e.g. 128,64,32,16") }
            p.follow.layers = parts.map { $0! }
        }
        if let negatives { p.follow.negatives = negatives }
        if let lr { p.follow.learningRate = lr }
        if let optimizer { p.follow.optimizer = optimizer }
        if let embeddingAdam { p.follow.embeddingAdam = embeddingAdam }
        if let l2 { p.follow.l2 = l2 }
        if let batch { p.follow.batchSize = batch }
        if let epochs { p.follow.epochs = epochs }
        if let patience { p.follow.patience = patience }
        if let lrDecay { p.follow.learningRateDecay = lrDecay }
        if let grouped { p.follow.grouped = grouped }
        if let recentWindow { p.follow.recentWindow = recentWindow }
        if let recentCopies { p.follow.recentCopies = recentCopies }
        if let pretrain { p.follow.pretrain = pretrain }
        if let finetuneLr { p.follow.finetuneLearningRate = finetuneLr }
        if let finetuneOptimizer { p.follow.finetuneOptimizer = finetuneOptimizer }
        if let refit { p.follow.refit = refit }
        if let validationUsers { p.follow.validationUsers = validationUsers }
        if let relationIndex { p.relationIndex.build = relationIndex }
        if let seed { p.seed = seed }
        if let threads { p.threads = threads }
        do { try p.validate() } catch { throw ValidationError(error.description) }
        return p
    }
}
