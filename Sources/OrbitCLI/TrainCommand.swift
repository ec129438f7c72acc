import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEval
import OrbitRecommend
import OrbitStore

extension NeuMFKind: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "gmf": self = .gmf
        case "mlp": self = .mlp
        case "neumf": self = .neumf
        default: return nil
        }
    }
}

/// Model and optimiser options shared by `train` and the evaluations that train.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model kind: gmf, mlp or neumf.") var kind: NeuMFKind = .neumf
    @Option(help: "GMF factors (predictive factors of the GMF half).") var factors: Int = 8
    @Option(help: "MLP tower, comma-separated; the first is the width of both MLP embeddings together.")
    var layers: String = "64,32,16,8"
    @Option(help: "Negatives sampled per positive, afresh each epoch.") var negatives: Int = 4
    @Option(help: "Learning rate.") var lr: Float = 0.001
    @Option(help: "Optimiser: adam (lazy row-wise Adam for embeddings) or sgd.") var optimizer: String = "adam"
    @Option(help: "L2 regularisation.") var l2: Float = 0
    @Option(help: "Mini-batch size.") var batch: Int = 512
    @Option(help: "Maximum epochs (training stops earlier when validation stops improving).") var epochs: Int = 20
    @Option(help: "Epochs without a better validation score before stopping.") var patience: Int = 3
    @Option(help: "Threads (0: all cores; 1: deterministic for the seed).") var threads: Int = 0
    @Flag(help: "Pretrain GMF and MLP, fuse them (alpha 0.5) and fine-tune NeuMF, as in the paper.") var pretrain = false
    @Option(help: "Learning rate of the NeuMF fine-tuning after pretraining.") var finetuneLr: Float = 0.0005
    @Option(help: "Optimiser of the NeuMF fine-tuning after pretraining: adam or sgd (the paper's choice: Adam's moments start empty after pretraining); default --optimizer.")
    var finetuneOptimizer: String?
    @Flag(help: "After choosing the epoch count(s) on validation, retrain from the same start on train + validation for that many epochs (every stage, with --pretrain) and keep that model.")
    var refit = false
    @Option(help: "Learning rate multiplier per epoch (1: constant).") var lrDecay: Float = 1
    @Option(help: "Train on each user's last N pairs (file order: time order in NCF files) --recent-copies more times; 0: uniform, as in the paper.")
    var recentWindow: Int = 0
    @Option(help: "Extra copies of each recent pair per epoch (see --recent-window).") var recentCopies: Int = 1
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Embedding optimiser: lazy (row-wise Adam, moments of absent rows frozen) or dense (rows catch up on the steps they missed, like Keras's dense Adam).")
    var embeddingAdam: String = "lazy"
    @Flag(help: "Put each positive and its negatives in one mini-batch (instead of shuffling all instances).") var grouped = false

    var layerList: [Int] { layers.split(separator: ",").compactMap { Int($0.trimmingSpaces()) } }

    func validate() throws {
        guard factors > 0, !layerList.isEmpty, layerList.allSatisfy({ $0 > 0 }), layerList[0] % 2 == 0 else {
            throw ValidationError("--factors must be positive and --layers positive integers, the first even (e.g. 64,32,16,8)")
        }
        guard ["adam", "sgd"].contains(optimizer) else { throw ValidationError("--optimizer is adam or sgd") }
        guard ["adam", "sgd"].contains(finetuneOptimizer ?? optimizer) else { throw ValidationError("--finetune-optimizer is adam or sgd") }
        guard lrDecay > 0, lrDecay <= 1 else { throw ValidationError("--lr-decay must be in (0, 1]") }
        guard recentWindow >= 0, recentCopies >= 0 else { throw ValidationError("--recent-window and --recent-copies must not be negative") }
        guard ["lazy", "dense"].contains(embeddingAdam) else { throw ValidationError("--embedding-adam is lazy or dense") }
        guard negatives >= 1, batch >= 1, epochs >= 1, lr > 0 else {
            throw ValidationError("--negatives, --batch, --epochs and --lr must be positive")
        }
    }

    func configuration(users: Int, items: Int) -> NeuMFConfiguration {
        NeuMFConfiguration(kind: kind, factors: factors, layers: layerList, userCount: users, itemCount: items)
    }

    func options(lr override: Float? = nil, optimizer optimizerOverride: String? = nil) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.batchSize = batch
        o.negatives = negatives
        o.learningRate = override ?? lr
        o.optimizer = (optimizerOverride ?? optimizer) == "sgd" ? .sgd : .adam
        o.learningRateDecay = lrDecay
        o.l2 = l2
        o.threads = threads
        o.patience = patience
        o.seed = seed
        o.embeddingAdam = embeddingAdam == "dense" ? .dense : .lazy
        o.shuffleInstances = !grouped
        return o
    }

    /// Trains (with pretraining when asked) and prints a line per epoch; returns the selected
    /// model (refitted on train + validation with `--refit`) and every epoch's report, tagged
    /// with the phase. With pretraining, `stage` receives the final GMF and MLP models too.
    func train(
        users: Int, items: Int, data: TrainingData, validation: ValidationSet?, log: (String) -> Void,
        stage: (NeuMFKind, NeuMFModel) -> Void = { _, _ in }
    ) throws -> (NeuMFModel, [(String, EpochReport)]) {
        if refit && validation == nil { throw ValidationError("--refit needs a validation split to choose the epoch count on") }
        let train = data.repeatingRecent(window: recentWindow, copies: recentCopies)
        func refitData(_ v: ValidationSet) -> TrainingData { data.adding(v).repeatingRecent(window: recentWindow, copies: recentCopies) }
        var all: [(String, EpochReport)] = []
        func line(_ phase: String, _ r: EpochReport) {
            all.append((phase, r))
            var s = String(format: "%@ epoch %2d  loss %.4f  %.0f samples/s  %.1f s", phase, r.epoch + 1, r.loss, r.samplesPerSecond, r.trainSeconds)
            if let hr = r.validationHitRate, let nd = r.validationNDCG {
                s += String(format: "  validation HR@10 %.4f NDCG@10 %.4f", hr, nd)
            }
            if r.isBest { s += "  *" }
            log(s)
        }
        let config = configuration(users: users, items: items)
        if pretrain && kind == .neumf {
            let finetune = options(lr: finetuneLr, optimizer: finetuneOptimizer)
            let r = try NeuMFTrainer.pretrainAndTrain(
                configuration: config, data: train, validation: validation,
                gmfOptions: options(), mlpOptions: options(), neumfOptions: finetune, seed: seed
            ) { k, rep in line("\(k)", rep) }
            log(selected(r.gmf, "GMF"))
            log(selected(r.mlp, "MLP"))
            log(selected(r.neumf, "NeuMF (pretrained)"))
            var final = r
            if refit, let validation {
                final = try NeuMFTrainer.refit(
                    r, configuration: config, data: refitData(validation),
                    gmfOptions: options(), mlpOptions: options(), neumfOptions: finetune, seed: seed
                ) { k, rep in line("refit \(k)", rep) }
            }
            stage(.gmf, final.gmf.model)
            stage(.mlp, final.mlp.model)
            return (final.neumf.model, all)
        }
        let initial = try NeuMFModel(configuration: config, seed: seed)
        let r = try NeuMFTrainer.train(initial, data: train, validation: validation, options: options()) { line("\(kind)", $0) }
        log(selected(r, "\(kind)"))
        guard refit, let validation else { return (r.model, all) }
        let again = try NeuMFTrainer.refit(initial, data: refitData(validation), options: options(), selected: r) {
            line("refit \(kind)", $0)
        }
        return (again.model, all)
    }

    /// The line naming the epoch chosen on validation and its figures.
    func selected(_ r: TrainingResult, _ what: String) -> String {
        guard let hr = r.bestHitRate, let nd = r.bestNDCG else { return "\(what): last epoch kept (no validation)" }
        return String(format: "%@: selected epoch %d on validation (HR@10 %.4f NDCG@10 %.4f)%@", what, r.bestEpoch + 1, hr, nd,
                      refit ? "; refitting on train + validation for that many epochs" : "")
    }
}

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a NeuMF model on the store's follow graph or on a pairs file.",
        discussion: """
            From the store (default): follows are positives, users on both sides share one index; each of up to
            --validation-users users has its latest follow held out for validation (early stopping and model choice).
            From --pairs FILE (user item [...] lines, .gz read directly, e.g. ml-1m.train.pairs.gz): each user's last
            pair in file order is the validation split. --test-rating FILE adds its pairs to the positives negative
            sampling must avoid and, with --test-negative, reports the selected model's test HR@10/NDCG@10.
            Writes the model (--out), the per-epoch figures as CSV and a training curve as SVG beside it.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Train on this pairs file instead of the store.") var pairs: String?
    @Option(help: "Test pairs (user item ...): excluded from negatives; reported with --test-negative.") var testRating: String?
    @Option(help: "NCF .negative file: 99 negatives per test pair.") var testNegative: String?
    @Option(help: "Users with a validation follow (store only).") var validationUsers: Int = 5_000
    @Option(help: "Where to write the model.") var out: String = "orbit-data/follow.model"
    @Flag(help: "Fit the click model instead, from the store's impressions: features as of --click-split of the interactions, labels from the views after it; the follow model --follow-model (when it exists) gives the affinity feature.")
    var clicks = false
    @Option(help: "Share of the interaction log (by time) before the click model's feature time.") var clickSplit: Double = 0.8
    @Option(help: "Follow model used as the click model's affinity feature.") var followModel: String = "orbit-data/follow.model"
    @Option(help: "Where --clicks writes the click model (JSON).") var clickOut: String = "orbit-data/click.json"

    func run() async throws {
        if clicks { return try await trainClicks() }
        let progress = ProgressReporter()
        let users: Int, items: Int
        let data: TrainingData
        let validation: ValidationSet?
        var testCases: [LeaveOneOutCase] = []
        if let pairs {
            let all = try NCFFiles.parsePairs(TextFile.read(path: pairs))
            let (train, held) = LeaveOneOut.splitLast(users: all.users, items: all.items)
            var test = PairList()
            if let testRating { test = try NCFFiles.parsePairs(TextFile.read(path: testRating)) }
            if let testNegative { testCases = try NCFFiles.parseNegatives(TextFile.read(path: testNegative)) }
            let negItems = testCases.flatMap(\.negatives)
            users = Int((all.users + test.users).max() ?? 0) + 1
            items = Int((all.items + test.items + negItems).max() ?? 0) + 1
            let exclusion = try ItemSets(userCount: users, pairs: [(all.users, all.items), (test.users, test.items)])
            data = TrainingData(users: train.users, items: train.items, exclusion: exclusion)
            validation = try ValidationSet.sampled(users: held.users, heldOut: held.items, exclusion: exclusion, itemCount: items)
            print("\(pairs): \(all.count) pairs, \(users) users, \(items) items; \(train.count) train, \(held.count) validation")
        } else {
            guard FileManager.default.fileExists(atPath: storeOptions.store) else {
                throw ValidationError("no store at \(storeOptions.store): import data first, or pass --pairs")
            }
            let loaded = try await SQLiteStore(path: storeOptions.store).loadSnapshot()
            let d = try FollowModelData(graph: loaded.snapshot, validationUsers: validationUsers, seed: model.seed)
            users = d.userCount
            items = d.userCount
            data = d.training
            validation = d.validation
            print("\(storeOptions.store): \(users) users, \(data.count) train follows, \(validation?.count ?? 0) validation follows")
        }
        let start = Date()
        var stages: [(NeuMFKind, NeuMFModel)] = []
        let (trained, epochs) = try model.train(users: users, items: items, data: data, validation: validation,
                                                log: { progress.message($0) }, stage: { stages.append(($0, $1)) })
        let seconds = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(
            atPath: (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try trained.save(to: out)
        let base = (out as NSString).deletingPathExtension
        try TrainingCurve.csv(epochs).write(toFile: base + ".epochs.csv", atomically: true, encoding: .utf8)
        try TrainingCurve.svg(epochs, title: "\(model.kind) f=\(model.factors) layers=\(model.layers)")
            .write(toFile: base + ".curve.svg", atomically: true, encoding: .utf8)
        print(String(format: "trained in %.1f s; model written to %@ (%d parameters); figures in %@.epochs.csv and %@.curve.svg",
                     seconds, out, trained.parameterCount, base, base))
        if !testCases.isEmpty {
            // With pretraining the GMF and MLP stages are models in their own right (each chosen
            // on validation), reported once each like the NeuMF model.
            for (kind, m) in stages + [(trained.configuration.kind, trained)] {
                let report = LeaveOneOut.evaluate(cases: testCases, scorer: NeuMFScorer(model: m), k: 10)
                print(String(format: "test %@ (NCF leave-one-out, %@): HR@10 %.4f NDCG@10 %.4f (%d users)",
                             "\(kind)",
                             model.refit ? "refitted on train + validation for the epochs chosen on validation" : "selected on validation",
                             report.hitRate, report.ndcg, report.users))
            }
        }
    }
}

extension Train {
    func trainClicks() async throws {
        guard (0.05...0.95).contains(clickSplit) else { throw ValidationError("--click-split must be in 0.05…0.95") }
        let (columns, _) = try await SQLiteStore(path: storeOptions.store).loadColumns()
        guard !columns.interactionTime.isEmpty else { throw ValidationError("the store has no interactions to learn clicks from") }
        let affinity = FileManager.default.fileExists(atPath: followModel) ? NeuMFPairScorer(model: try NeuMFModel.load(from: followModel)) : nil
        let t = ClickModelTraining.quantile(columns, clickSplit)
        let start = Date()
        let (model, n, clicked) = ClickModelTraining.fit(columns, featureTime: t, affinity: affinity)
        try model.save(to: clickOut)
        print(String(format: "click model fitted on %d impressions (%d clicked) after %.0f%% of the log in %.2f s%@; written to %@",
                     n, clicked, clickSplit * 100, Date().timeIntervalSince(start),
                     affinity == nil ? " (no follow model: affinity feature constant)" : "", clickOut))
        print("weights: " + zip(ClickModel.featureNames, model.weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
    }
}

/// Per-epoch figures as CSV and as an SVG chart (loss and validation HR@10 against epochs).
enum TrainingCurve {
    static func csv(_ epochs: [(String, EpochReport)]) -> String {
        var s = "phase,epoch,loss,samples_per_s,train_s,validation_hr10,validation_ndcg10,best\n"
        for (phase, r) in epochs {
            s += "\(phase),\(r.epoch + 1),\(r.loss),\(Int(r.samplesPerSecond)),\(r.trainSeconds),"
                + "\(r.validationHitRate.map { String($0) } ?? ""),\(r.validationNDCG.map { String($0) } ?? ""),\(r.isBest)\n"
        }
        return s
    }

    static func svg(_ epochs: [(String, EpochReport)], title: String) -> String {
        let w = 640.0, h = 360.0, pad = 48.0
        let n = max(epochs.count, 2)
        let losses = epochs.map(\.1.loss), hrs = epochs.map { $0.1.validationHitRate ?? 0 }
        let maxLoss = max(losses.max() ?? 1, 1e-9)
        func x(_ i: Int) -> Double { pad + (w - 2 * pad) * Double(i) / Double(n - 1) }
        func y(_ v: Double, _ top: Double) -> Double { h - pad - (h - 2 * pad) * v / top }
        func path(_ vals: [Double], _ top: Double) -> String {
            vals.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", x($0.offset))),\(String(format: "%.1f", y($0.element, top)))" }
                .joined(separator: " ")
        }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(pad)" y="20">\(title): loss (red, left, max \(String(format: "%.3f", maxLoss))) and validation HR@10 (blue, right, 0–1) per epoch</text>
            <line x1="\(pad)" y1="\(h - pad)" x2="\(w - pad)" y2="\(h - pad)" stroke="black"/>
            <line x1="\(pad)" y1="\(pad)" x2="\(pad)" y2="\(h - pad)" stroke="black"/>
            <path d="\(path(losses, maxLoss))" fill="none" stroke="crimson" stroke-width="2"/>
            <path d="\(path(hrs, 1))" fill="none" stroke="steelblue" stroke-width="2"/>
            <text x="\(pad)" y="\(h - pad + 20)">epoch 1</text><text x="\(w - pad - 50)" y="\(h - pad + 20)">epoch \(epochs.count)</text>
            """
        // Phase boundaries (pretraining: gmf, mlp, neumf).
        for i in 1..<epochs.count where epochs[i].0 != epochs[i - 1].0 {
            s += "<line x1=\"\(x(i))\" y1=\"\(pad)\" x2=\"\(x(i))\" y2=\"\(h - pad)\" stroke=\"gray\" stroke-dasharray=\"4\"/>"
            s += "<text x=\"\(x(i) + 4)\" y=\"\(pad + 12)\" fill=\"gray\">\(epochs[i].0)</text>"
        }
        return s + "\n</svg>\n"
    }
}
