import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend

/// One epoch of a training run, tagged with its phase ("neumf", "gmf", "refit neumf", ...).
public struct PhaseEpoch: Sendable {
    public var phase: String
    public var report: EpochReport
}

/// A trained follow model and how it was chosen.
public struct TrainedFollowModel: Sendable {
    /// The model to serve: the epoch chosen on validation, refitted on train + validation when the
    /// plan says so.
    public var model: NeuMFModel
    /// The epoch chosen on validation, before any refit: it never saw the validation follows, so
    /// an evaluation scores its validation queries with it (`model` when the plan does not refit).
    public var validated: NeuMFModel
    /// Every epoch of every phase, in order.
    public var epochs: [PhaseEpoch]
    /// With pretraining, the GMF and MLP stages (each chosen on validation, refitted like the model).
    public var stages: [(kind: NeuMFKind, model: NeuMFModel)]
    /// Validation HR@10 and NDCG@10 of the chosen epoch of the final stage (nil without validation).
    public var validationHR10: Double?
    public var validationNDCG10: Double?
    /// Lines describing what was chosen, for logs.
    public var summary: [String]
    public var seconds: Double
}

/// Trains the follow model by a `TrainingPlan`: the one orchestration `orbit train`, the server's
/// retraining and the evaluations share (pretraining, epoch choice on validation, refit, recency).
public struct FollowModelTraining: Sendable {
    public let plan: TrainingPlan

    public init(plan: TrainingPlan) { self.plan = plan }

    /// The store's follow graph as training data: each of up to `validationUsers` users has its
    /// latest follow held out for validation, and each user's pairs are in follow-time order, so
    /// that recency weighting repeats the latest follows.
    public func data(graph s: Snapshot) throws(EngineError) -> FollowModelData {
        do {
            var d = try FollowModelData(graph: s, validationUsers: plan.follow.validationUsers, seed: plan.seed)
            d.training = d.training.orderedByTime(in: s)
            return d
        } catch {
            throw .training(cause: "\(error)")
        }
    }

    /// Trains on the store's follow graph (validation as in `data(graph:)`). Recency weighting
    /// needs follow times to know which follows are a user's latest: on a graph whose follows carry
    /// none it is not applied, and the summary says so.
    public func train(graph s: Snapshot, log: (String) -> Void = { _ in }) throws(EngineError) -> TrainedFollowModel {
        let d = try data(graph: s)
        guard plan.follow.recentWindow > 0, plan.follow.recentCopies > 0, !s.hasFollowTimes else {
            return try train(users: d.userCount, items: d.userCount, data: d.training, validation: d.validation, log: log)
        }
        var uniform = plan
        uniform.follow.recentWindow = 0
        let note = "recency weighting not applied: the follows carry no times, so no follow is a user's latest"
        log(note)
        var t = try FollowModelTraining(plan: uniform).train(users: d.userCount, items: d.userCount, data: d.training, validation: d.validation, log: log)
        t.summary.insert(note, at: 0)
        return t
    }

    /// Trains on prepared data: pretraining when the plan asks (NeuMF only), the epoch count
    /// chosen on `validation`, and a refit on train + validation when the plan asks.
    public func train(
        users: Int, items: Int, data: TrainingData, validation: ValidationSet?, log: (String) -> Void = { _ in }
    ) throws(EngineError) -> TrainedFollowModel {
        do {
            return try run(users: users, items: items, data: data, validation: validation, log: log)
        } catch let e as EngineError {
            throw e
        } catch {
            throw .training(cause: "\(error)")
        }
    }

    private func run(users: Int, items: Int, data: TrainingData, validation: ValidationSet?, log: (String) -> Void) throws -> TrainedFollowModel {
        let f = plan.follow
        if f.refit && validation == nil {
            throw EngineError.invalidPlan(where: "follow.refit", reason: "needs a validation split to choose the epoch count on")
        }
        let start = Date()
        let train = data.repeatingRecent(window: f.recentWindow, copies: f.recentCopies)
        func refitData(_ v: ValidationSet) -> TrainingData { data.adding(v).repeatingRecent(window: f.recentWindow, copies: f.recentCopies) }
        var all: [PhaseEpoch] = []
        var summary: [String] = []
        func line(_ phase: String, _ r: EpochReport) {
            all.append(PhaseEpoch(phase: phase, report: r))
            var s = String(format: "%@ epoch %2d  loss %.4f  %.0f samples/s  %.1f s", phase, r.epoch + 1, r.loss, r.samplesPerSecond, r.trainSeconds)
            if let hr = r.validationHitRate, let nd = r.validationNDCG {
                s += String(format: "  validation HR@10 %.4f NDCG@10 %.4f", hr, nd)
            }
            if r.isBest { s += "  *" }
            log(s)
        }
        func selected(_ r: TrainingResult, _ what: String) -> String {
            guard let hr = r.bestHitRate, let nd = r.bestNDCG else { return "\(what): last epoch kept (no validation)" }
            return String(format: "%@: selected epoch %d on validation (HR@10 %.4f NDCG@10 %.4f)%@", what, r.bestEpoch + 1, hr, nd,
                          f.refit ? "; refitting on train + validation for that many epochs" : "")
        }
        let config = f.configuration(users: users, items: items)
        if f.pretrain && f.kind == .neumf {
            let finetune = plan.options(learningRate: f.finetuneLearningRate, optimizer: f.finetuneOptimizer)
            let r = try NeuMFTrainer.pretrainAndTrain(
                configuration: config, data: train, validation: validation,
                gmfOptions: plan.options(), mlpOptions: plan.options(), neumfOptions: finetune, seed: plan.seed
            ) { k, rep in line("\(k)", rep) }
            summary += [selected(r.gmf, "GMF"), selected(r.mlp, "MLP"), selected(r.neumf, "NeuMF (pretrained)")]
            summary.forEach(log)
            var final = r
            if f.refit, let validation {
                final = try NeuMFTrainer.refit(
                    r, configuration: config, data: refitData(validation),
                    gmfOptions: plan.options(), mlpOptions: plan.options(), neumfOptions: finetune, seed: plan.seed
                ) { k, rep in line("refit \(k)", rep) }
            }
            return TrainedFollowModel(
                model: final.neumf.model, validated: r.neumf.model, epochs: all, stages: [(.gmf, final.gmf.model), (.mlp, final.mlp.model)],
                validationHR10: r.neumf.bestHitRate, validationNDCG10: r.neumf.bestNDCG, summary: summary,
                seconds: Date().timeIntervalSince(start))
        }
        let initial = try NeuMFModel(configuration: config, seed: plan.seed)
        let r = try NeuMFTrainer.train(initial, data: train, validation: validation, options: plan.options()) { line("\(f.kind)", $0) }
        summary.append(selected(r, "\(f.kind)"))
        log(summary[0])
        var model = r.model
        if f.refit, let validation {
            model = try NeuMFTrainer.refit(initial, data: refitData(validation), options: plan.options(), selected: r) {
                line("refit \(f.kind)", $0)
            }.model
        }
        return TrainedFollowModel(
            model: model, validated: r.model, epochs: all, stages: [], validationHR10: r.bestHitRate, validationNDCG10: r.bestNDCG, summary: summary,
            seconds: Date().timeIntervalSince(start))
    }

    /// Builds the relation-vector index of the complex logic over `graph`'s follows when the plan
    /// says so for a graph of this size; nil otherwise.
    public func relationIndex(for model: NeuMFModel, graph: CSR) throws(EngineError) -> RelationIndex? {
        let p = plan.relationIndex
        guard p.builds(edges: graph.edgeCount), graph.edgeCount > 0 else { return nil }
        do {
            return try RelationIndex(
                graph: graph, scorer: NeuMFPairScorer(model: model, threads: max(plan.threads, 0)), ef: p.ef, m: p.m,
                efConstruction: p.efConstruction, threads: plan.threads)
        } catch {
            throw .training(cause: "building the relation index: \(error)")
        }
    }
}

extension TrainingData {
    /// The same pairs with each user's pairs in follow-time order (ties keep their order), users in
    /// index order: what "a user's latest pairs" means to recency weighting on the follow graph.
    public func orderedByTime(in s: Snapshot) -> TrainingData {
        var order = Array(0..<count)
        let time = order.map { s.followedAt(follower: users[$0], followee: items[$0]) ?? 0 }
        order.sort { a, b in (users[a], time[a], a) < (users[b], time[b], b) }
        return TrainingData(users: order.map { users[$0] }, items: order.map { items[$0] }, exclusion: exclusion)
    }
}
