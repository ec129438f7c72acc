import Foundation
import NeuMF
import OrbitCore
import OrbitEval
import OrbitRecommend
import Ranking

/// Where the model files of one deployment live, and how they are read, written and retrained:
/// the follow model, its relation index beside it, and the click model (JSON).
public struct ModelFiles: Sendable {
    public var followModel: String
    public var clickModel: String

    public init(followModel: String, clickModel: String) {
        self.followModel = followModel
        self.clickModel = clickModel
    }

    /// Per-epoch figures (CSV) and the training curve (SVG), beside the follow model.
    public var epochsCSV: String { (followModel as NSString).deletingPathExtension + ".epochs.csv" }
    public var curveSVG: String { (followModel as NSString).deletingPathExtension + ".curve.svg" }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Loads the follow model and, when one was written beside it, its relation index (search
    /// breadth `ef`). Nil when there is no model file. A file that exists but cannot be used is an
    /// error, never a silent "no model".
    public func loadFollow(ef: Int = RelationIndexPlan().ef) throws(EngineError) -> ModelSet? {
        guard let at = Self.modified(followModel) else { return nil }
        let model: NeuMFModel
        do { model = try NeuMFModel.load(from: followModel) } catch {
            throw .unusableModel(path: followModel, reason: "\(error)")
        }
        var set = ModelSet(
            follow: model,
            followStatus: ModelStatus(kind: "\(model.configuration.kind)".lowercased(), path: followModel, origin: "file", trainedAt: at,
                                      parameters: model.parameterCount, users: model.configuration.userCount))
        if RankerFile.exists(model: followModel) {
            let (ranker, _) = try RankerFile.read(from: RankerFile.path(model: followModel))
            set.ranker = ranker
            set.rankerStatus = ModelStatus(kind: "ranker_xgboost_lambdamart", path: RankerFile.path(model: followModel), origin: "file",
                                           trainedAt: at, parameters: ranker.model.featureNames.count, users: 0)
        }
        if RelationIndexFile.exists(model: followModel) {
            let index = try RelationIndexFile.read(model: model, modelPath: followModel, ef: ef)
            set.relations = index
            set.relationsStatus = ModelStatus(kind: "relation_hnsw", path: RelationIndexFile.indexPath(model: followModel), origin: "file",
                                              trainedAt: at, parameters: index.index.count, users: index.graph.rowCount)
        }
        return set
    }

    /// Loads the click model; nil when there is no file.
    public func loadClick() throws(EngineError) -> (ClickModel, ModelStatus)? {
        guard let at = Self.modified(clickModel) else { return nil }
        do {
            let m = try ClickModel.load(from: clickModel)
            return (m, ModelStatus(kind: "click_lr", path: clickModel, origin: "file", trainedAt: at, parameters: m.weights.count, users: 0))
        } catch {
            throw .unusableModel(path: clickModel, reason: "\(error)")
        }
    }

    /// Loads the model files that are newer than what `models` holds: another process (`orbit
    /// train`, or a replica that retrained) may have written them.
    public func reloadingChanged(_ models: ModelSet, ef: Int = RelationIndexPlan().ef) throws(EngineError) -> ModelSet {
        var m = models
        if let at = Self.modified(followModel), m.followStatus.map({ $0.trainedAt < at }) ?? true, let loaded = try loadFollow(ef: ef) {
            m.follow = loaded.follow
            m.followStatus = loaded.followStatus
            m.relations = loaded.relations
            m.relationsStatus = loaded.relationsStatus
            m.ranker = loaded.ranker
            m.rankerStatus = loaded.rankerStatus
        }
        if let at = Self.modified(clickModel), m.clickStatus.map({ $0.trainedAt < at }) ?? true, let (c, status) = try loadClick() {
            m.click = c
            m.clickStatus = status
        }
        return m
    }

    /// Writes a trained follow model and what goes with it: the model file, its relation index (or
    /// removes a stale one when `index` is nil), the per-epoch CSV and the training curve. Every
    /// file is written to a temporary name and renamed.
    public func write(_ trained: TrainedFollowModel, index: RelationIndex?, title: String) throws(EngineError) {
        let dir = (followModel as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .unreadableFile(path: dir, cause: "cannot create the folder: \(error.localizedDescription)")
            }
        }
        do { try trained.model.save(to: followModel) } catch { throw .unreadableFile(path: followModel, cause: "\(error)") }
        if let index {
            try RelationIndexFile.write(index, model: trained.model, modelPath: followModel)
        } else {
            RelationIndexFile.remove(model: followModel)
        }
        try AtomicFile.write(Data(TrainingCurve.csv(trained.epochs).utf8), to: epochsCSV)
        try AtomicFile.write(Data(TrainingCurve.svg(trained.epochs, title: title).utf8), to: curveSVG)
    }
}

/// What a retraining in another process trained, written by `orbit train all --report` and read
/// by the server that ran it: the statuses (validation figures, training seconds) that the model
/// files alone do not carry.
public struct RetrainReport: Codable, Sendable, Equatable {
    public var follow: ModelStatus?
    public var relations: ModelStatus?
    public var ranker: ModelStatus?
    /// Nil when the click model was kept rather than refitted.
    public var click: ModelStatus?

    public init(_ trained: ModelSet) {
        follow = trained.followStatus
        relations = trained.relationsStatus
        ranker = trained.rankerStatus
        click = trained.clickStatus?.origin == "trained" ? trained.clickStatus : nil
    }

    /// Gives the models loaded from the files this retraining wrote its statuses back.
    public func describe(_ models: inout ModelSet) {
        if models.follow != nil, let follow { models.followStatus = follow }
        if models.relations != nil, let relations { models.relationsStatus = relations }
        if models.ranker != nil, let ranker { models.rankerStatus = ranker }
        if models.click != nil, let click { models.clickStatus = click }
    }

    /// Writes the report (temporary name, then rename).
    public func write(to path: String) throws(EngineError) {
        let encoder = JSONEncoder()
        // Dates stay as seconds with their fractions: a status's `trainedAt` is compared with the
        // files' modification times to tell whether they changed since.
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .unreadableFile(path: path, cause: "cannot encode the report: \(error)") }
        try AtomicFile.write(data, to: path)
    }

    /// Reads a report written by `write(to:)`.
    public static func read(from path: String) throws(EngineError) -> RetrainReport {
        do {
            return try JSONDecoder().decode(RetrainReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadableFile(path: path, cause: "\(error)")
        }
    }
}

/// The retraining policy: what `orbit train` and a server's scheduled or requested retraining do,
/// by one plan, so that both write the same files for the same plan and snapshot.
public struct Retraining: Sendable {
    public let plan: TrainingPlan
    public let files: ModelFiles

    public init(plan: TrainingPlan, files: ModelFiles) {
        self.plan = plan
        self.files = files
    }

    /// Trains the follow model on `snapshot`'s graph, builds its relation index when the plan says
    /// so, writes all of it, and returns the models with their status.
    public func trainFollow(_ snapshot: Snapshot, log: (String) -> Void = { _ in }) throws(EngineError) -> ModelSet {
        let training = FollowModelTraining(plan: plan)
        let trained = try training.train(graph: snapshot, log: log)
        let t = Date()
        let index = try training.relationIndex(for: trained.model, graph: snapshot.followees)
        let indexSeconds = Date().timeIntervalSince(t)
        let f = plan.follow
        try files.write(trained, index: index, title: "\(f.kind) f=\(f.factors) layers=\(f.layers.map(String.init).joined(separator: ","))")
        let now = Date()
        var set = ModelSet(
            follow: trained.model,
            followStatus: ModelStatus(
                kind: f.kind.rawValue, path: files.followModel, origin: "trained", trainedAt: now, parameters: trained.model.parameterCount,
                users: trained.model.configuration.userCount, validationHR10: trained.validationHR10, validationNDCG10: trained.validationNDCG10,
                trainSeconds: trained.seconds))
        try trainRanker(snapshot, into: &set, log: log)
        if let index {
            set.relations = index
            set.relationsStatus = ModelStatus(kind: "relation_hnsw", path: RelationIndexFile.indexPath(model: files.followModel), origin: "trained",
                                              trainedAt: now, parameters: index.index.count, users: index.graph.rowCount, trainSeconds: indexSeconds)
        }
        return set
    }

    /// Everything a retraining does, in the order it does it: the follow model (with its relation
    /// index and ranker) on `columns`' graph, then the click model on its interaction log with the
    /// new follow model as the affinity feature. Where the log holds too little to fit a click
    /// model, `keeping`'s click model (the one in service) stays. `orbit train all` and a server
    /// retraining in its own thread both run this.
    public func trainAll(_ columns: Snapshot.Columns, snapshot: Snapshot, keeping current: ModelSet = ModelSet(),
                         log: (String) -> Void = { _ in }) throws(EngineError) -> ModelSet {
        var trained = try trainFollow(snapshot, log: log)
        if let (click, status, impressions, clicked) = try fitClick(columns, follow: trained.follow) {
            trained.click = click
            trained.clickStatus = status
            log("click model fitted on \(impressions) impressions (\(clicked) clicked)")
        } else {
            trained.click = current.click
            trained.clickStatus = current.clickStatus
            log("click model not refitted: too few interactions or no click after the feature time")
        }
        return trained
    }

    /// Fits the ranking stage for `models.follow` on `snapshot` (features as of an earlier cut of its
    /// own follow graph, labels the follows after it), writes it beside the follow model and adds it
    /// to the set. Removes a stale ranker file and leaves the set without one when the plan turns
    /// the ranker off or the graph holds no later follows to learn from.
    public func trainRanker(_ snapshot: Snapshot, into models: inout ModelSet, log: (String) -> Void = { _ in }) throws(EngineError) {
        let r = plan.ranker
        let path = RankerFile.path(model: files.followModel)
        models.ranker = nil
        models.rankerStatus = nil
        guard r.enabled else {
            RankerFile.remove(model: files.followModel)
            return
        }
        let start = Date()
        // The latest slice checks the fitted ranker against the blend; the earlier ones train it.
        let all = FollowRankerStudy.trainingSplits(of: snapshot, fraction: r.labelFraction, slices: r.slices + (r.requireGain ? 1 : 0),
                                                   seed: plan.seed &+ 1, maxUsers: r.users)
        let check = r.requireGain ? all.first : nil
        let splits = r.requireGain ? Array(all.dropFirst()) : all
        guard splits.contains(where: { !$0.labels.isEmpty }) else {
            RankerFile.remove(model: files.followModel)
            log("ranker: no later follows to learn from; none fitted")
            return
        }
        var scorer: (any PairScorer)?
        if r.modelFeatures {
            var p = plan
            p.follow.refit = false
            // Trained on the earliest split's input: it never saw any split's labels.
            let earlier = try FollowModelTraining(plan: p).train(graph: splits.last!.input) { log("ranker's follow model: " + $0) }
            scorer = NeuMFPairScorer(model: earlier.model, threads: max(plan.threads, 0))
        }
        func recommender(_ split: FollowRankerStudy.TrainingSplit) -> (FollowRecommender, [UserIndex: [UserIndex]]) {
            let now = Leaderboards.latestEvent(in: split.input)
            return (FollowRecommender(view: LiveView(snapshot: split.input), leaderboards: Leaderboards(snapshot: split.input, now: now), now: now,
                                      scorer: scorer), split.labels)
        }
        func rows(_ splits: [FollowRankerStudy.TrainingSplit]) -> RankingExamples {
            let e = FollowRankerTraining.examples(splits.map(recommender), perSource: r.perSource)
            return r.modelFeatures ? e : e.keeping { !($0.hasPrefix("model.") || $0.hasPrefix("source.neumf_")) }
        }
        let examples = rows(splits)
        guard !examples.groups.isEmpty else {
            RankerFile.remove(model: files.followModel)
            log("ranker: the candidate union holds none of the later follows; none fitted")
            return
        }
        do {
            let model = try FollowRankerTraining.fit(examples, parameters: r.parameters)
            var ranker = try FollowRanker(model: model, perSource: r.perSource, engagedFirst: r.engagedFirst)
            var status = ModelStatus(kind: "ranker_xgboost_lambdamart", path: path, origin: "trained", trainedAt: Date(),
                                     parameters: model.featureNames.count, users: examples.groups.count)
            log(String(format: "ranker fitted on %d rows of %d users (union recall %.3f) in %.1f s", examples.labels.count, examples.groups.count,
                       examples.unionRecall, Date().timeIntervalSince(start)))
            if let check, !check.labels.isEmpty {
                // The ranker earns its slots: served only if it beats the blend on later follows it never saw.
                let now = Leaderboards.latestEvent(in: check.input)
                let boards = Leaderboards(snapshot: check.input, now: now)
                let blend = FollowRecommender(view: LiveView(snapshot: check.input), leaderboards: boards, now: now, scorer: scorer)
                let ranked = FollowRecommender(view: LiveView(snapshot: check.input), leaderboards: boards, now: now, scorer: scorer, ranker: ranker)
                let catalogue = check.input.userFlags.filter(\.isEmpty).count
                let b = evaluateFollows(heldOut: check.labels, catalogueSize: catalogue, threads: 1) { u in blend.recommend(user: u, k: 20).items.map { ($0.user, $0.source) } }
                let k = evaluateFollows(heldOut: check.labels, catalogueSize: catalogue, threads: 1) { u in ranked.recommend(user: u, k: 20).items.map { ($0.user, $0.source) } }
                status.validationHR10 = k.hitRate10
                status.validationNDCG10 = k.ndcg10
                log(String(format: "ranker check on the latest %.0f%% of follows (%d users): HR@10 %.4f, the blend %.4f", r.labelFraction * 100,
                           check.labels.count, k.hitRate10, b.hitRate10))
                guard k.hitRate10 > b.hitRate10 else {
                    RankerFile.remove(model: files.followModel)
                    status.origin = "not_served"
                    status.trainSeconds = Date().timeIntervalSince(start)
                    models.rankerStatus = status
                    log("ranker not served: the blend did at least as well on the check slice")
                    return
                }
                if r.refit {
                    var all = examples
                    all.append(rows([check]))
                    let t = Date()
                    ranker = try FollowRanker(model: try FollowRankerTraining.fit(all, parameters: r.parameters), perSource: r.perSource,
                                              engagedFirst: r.engagedFirst)
                    status.users = all.groups.count
                    log(String(format: "ranker refitted with the check slice: %d rows of %d users in %.1f s", all.labels.count, all.groups.count,
                               Date().timeIntervalSince(t)))
                }
            }
            status.trainSeconds = Date().timeIntervalSince(start)
            try RankerFile.write(ranker, parameters: r.parameters, to: path)
            models.ranker = ranker
            models.rankerStatus = status
        } catch let e as EngineError {
            throw e
        } catch {
            throw .training(cause: "fitting the ranker: \(error)")
        }
    }

    /// Fits the click model on the store's impressions (features as of `plan.click.split` of the
    /// interaction log, the impressions after it as labels, the follow model as the affinity
    /// feature) and writes it. Nil when the log is too short or holds no click to learn from.
    public func fitClick(_ columns: Snapshot.Columns, follow: NeuMFModel?) throws(EngineError) -> (ClickModel, ModelStatus, impressions: Int, clicked: Int)? {
        guard columns.interactionTime.count >= plan.click.minimumInteractions else { return nil }
        let featureTime = ClickModelTraining.quantile(columns, plan.click.split)
        let affinity = follow.map { NeuMFPairScorer(model: $0, threads: 1) }
        let (model, impressions, clicked) = ClickModelTraining.fit(columns, featureTime: featureTime, affinity: affinity)
        guard impressions > 0, clicked > 0 else { return nil }
        do { try model.save(to: files.clickModel) } catch { throw .unreadableFile(path: files.clickModel, cause: "\(error)") }
        let status = ModelStatus(kind: "click_lr", path: files.clickModel, origin: "trained", trainedAt: Date(), parameters: model.weights.count, users: 0)
        return (model, status, impressions, clicked)
    }
}
