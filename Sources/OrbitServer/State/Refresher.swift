import Foundation
import Logging
import NeuMF
import OrbitCore
import OrbitRecommend
import OrbitStore

/// What one rebuild did, as the admin route and the log report it.
public struct RefreshReport: Codable, Sendable {
    public var snapshotVersion: Int64
    public var users: Int
    public var follows: Int
    public var loadSeconds: Double
    public var buildSeconds: Double
    public var retrained: Bool
    public var trainSeconds: Double?
    public var followModel: ModelStatus?
    public var clickModel: ModelStatus?
    public var finishedAt: Date
}

/// Why a rebuild failed; the serving state is left as it was.
public enum RefreshError: Error, CustomStringConvertible, Sendable {
    case training(String)
    case modelFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .training(let why): "retraining failed: \(why); the previous model keeps serving"
        case .modelFile(let path, let why): "model file \(path): \(why); the previous model keeps serving"
        }
    }
}

/// Rebuilds the engine from the store (and retrains the models when asked), then hands it to the
/// synchronizer to swap in. One rebuild at a time; a request made while one runs waits for it.
actor Refresher {
    let store: any Store
    let sync: Synchronizer
    let state: StateBox
    let configuration: ServerConfiguration
    let logger: Logger
    private let gate = AsyncGate()
    private(set) var lastReport: RefreshReport?
    private(set) var running = false

    init(store: any Store, sync: Synchronizer, state: StateBox, configuration: ServerConfiguration, logger: Logger) {
        self.store = store
        self.sync = sync
        self.state = state
        self.configuration = configuration
        self.logger = logger
    }

    /// Loads a new snapshot, keeps or reloads or retrains the models, and swaps the engine in.
    @discardableResult
    func refresh(retrain: Bool) async throws -> RefreshReport {
        await gate.acquire()
        defer { gate.release() }
        running = true
        defer { running = false }
        let start = Date()
        // Retraining needs the raw interaction log for the click model; a plain rebuild does not.
        let columns = retrain ? try await store.loadColumns() : nil
        let loaded: LoadedSnapshot
        if let (c, catalog) = columns {
            loaded = LoadedSnapshot(snapshot: Snapshot.build(c), catalog: catalog)
        } else {
            loaded = try await store.loadSnapshot()
        }
        let loadSeconds = Date().timeIntervalSince(start)
        var models = state.current?.engine.models ?? ModelSet()
        var trainSeconds: Double?
        if let columns = columns?.0 {
            let t0 = Date()
            models.follow = nil
            (models.follow, models.followStatus) = try await Self.trainFollowModel(
                loaded.snapshot, configuration: configuration, logger: logger)
            if let fitted = try Self.fitClickModel(columns, follow: models.follow, path: configuration.clickModel, logger: logger) {
                (models.click, models.clickStatus) = fitted
            }
            trainSeconds = Date().timeIntervalSince(t0)
        } else {
            try Self.reloadChangedFiles(&models, configuration: configuration, logger: logger)
        }
        var blend = BlendConfig()
        blend.expansion.edgesPerStep = configuration.expansionEdges
        let engine = Engine(loaded: loaded, models: models, blend: blend)
        try await sync.install(engine)
        let report = RefreshReport(
            snapshotVersion: loaded.snapshot.version, users: loaded.snapshot.userCount,
            follows: loaded.snapshot.followees.edgeCount, loadSeconds: loadSeconds, buildSeconds: engine.buildSeconds,
            retrained: retrain, trainSeconds: trainSeconds, followModel: models.followStatus, clickModel: models.clickStatus,
            finishedAt: Date())
        lastReport = report
        logger.info("engine swapped", metadata: [
            "version": "\(report.snapshotVersion)", "users": "\(report.users)", "follows": "\(report.follows)",
            "load_s": "\(String(format: "%.2f", loadSeconds))", "retrained": "\(retrain)",
        ])
        return report
    }

    /// Loads the model files that are newer than what is served: another process (`orbit train`,
    /// or a replica that retrained) may have written them.
    static func reloadChangedFiles(_ models: inout ModelSet, configuration c: ServerConfiguration, logger: Logger) throws {
        let fm = FileManager.default
        func modified(_ path: String) -> Date? {
            (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }
        if let m = modified(c.followModel), models.followStatus.map({ $0.trainedAt < m }) ?? true {
            do {
                let model = try NeuMFModel.load(from: c.followModel)
                models.follow = model
                models.followStatus = ModelStatus(
                    kind: "\(model.configuration.kind)", path: c.followModel, origin: "file", trainedAt: m,
                    parameters: model.parameterCount, users: model.configuration.userCount)
                logger.info("follow model loaded", metadata: ["path": "\(c.followModel)", "parameters": "\(model.parameterCount)"])
            } catch {
                throw RefreshError.modelFile(path: c.followModel, reason: "\(error)")
            }
        }
        if let m = modified(c.clickModel), models.clickStatus.map({ $0.trainedAt < m }) ?? true {
            do {
                let model = try ClickModel.load(from: c.clickModel)
                models.click = model
                models.clickStatus = ModelStatus(
                    kind: "click_lr", path: c.clickModel, origin: "file", trainedAt: m, parameters: model.weights.count, users: 0)
            } catch {
                throw RefreshError.modelFile(path: c.clickModel, reason: "\(error)")
            }
        }
    }

    /// Fits the click model on the impressions of the last 20% of the interaction log (features as
    /// of the start of that window, the new follow model as the affinity feature) and writes it
    /// atomically. Nil when the store has too few interactions to learn from.
    static func fitClickModel(
        _ columns: Snapshot.Columns, follow: NeuMFModel?, path: String, logger: Logger
    ) throws -> (ClickModel, ModelStatus)? {
        guard columns.interactionTime.count >= 100 else { return nil }
        let featureTime = ClickModelTraining.quantile(columns, 0.8)
        let affinity = follow.map { NeuMFPairScorer(model: $0, threads: 1) }
        let (model, impressions, clicked) = ClickModelTraining.fit(columns, featureTime: featureTime, affinity: affinity)
        guard impressions > 0, clicked > 0 else { return nil }
        try model.save(to: path)
        logger.info("click model fitted", metadata: ["impressions": "\(impressions)", "clicked": "\(clicked)"])
        return (model, ModelStatus(kind: "click_lr", path: path, origin: "trained", trainedAt: Date(),
                                   parameters: model.weights.count, users: 0))
    }

    /// Trains the follow model on the snapshot's graph (validation: each sampled user's latest
    /// follow) and writes it atomically; runs off the cooperative pool, which serves requests.
    static func trainFollowModel(
        _ snapshot: Snapshot, configuration c: ServerConfiguration, logger: Logger
    ) async throws -> (NeuMFModel, ModelStatus) {
        let t = c.training
        let path = c.followModel
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let start = Date()
                    let d = try FollowModelData(graph: snapshot, validationUsers: t.validationUsers)
                    var o = TrainingOptions()
                    o.epochs = t.epochs
                    o.threads = t.threads
                    let config = NeuMFConfiguration(
                        kind: .neumf, factors: t.factors, layers: t.layers, userCount: d.userCount, itemCount: d.userCount)
                    let r = try NeuMFTrainer.train(
                        NeuMFModel(configuration: config, seed: 42), data: d.training, validation: d.validation, options: o
                    ) { e in
                        logger.info("training epoch", metadata: [
                            "epoch": "\(e.epoch + 1)", "loss": "\(e.loss)", "validation_hr10": "\(e.validationHitRate ?? -1)",
                        ])
                    }
                    let dir = (path as NSString).deletingLastPathComponent
                    if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
                    try r.model.save(to: path)
                    let status = ModelStatus(
                        kind: "neumf", path: path, origin: "trained", trainedAt: Date(), parameters: r.model.parameterCount,
                        users: d.userCount, validationHR10: r.bestHitRate, validationNDCG10: r.bestNDCG,
                        trainSeconds: Date().timeIntervalSince(start))
                    continuation.resume(returning: (r.model, status))
                } catch {
                    continuation.resume(throwing: RefreshError.training("\(error)"))
                }
            }
        }
    }
}
