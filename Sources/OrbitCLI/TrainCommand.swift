import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitEval
import OrbitRecommend
import OrbitStore

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the follow model (default) or the click model.",
        discussion: """
            `orbit train` alone trains the follow model by the default TrainingPlan, the same plan `orbit serve` retrains \
            with: the best model Orbit knows how to make (BENCHMARKS.md says how each default was chosen on validation).
            """,
        subcommands: [TrainFollow.self, TrainClicks.self, TrainAll.self], defaultSubcommand: TrainFollow.self)
}

struct TrainFollow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow",
        abstract: "Train the follow model (NeuMF) on the store's follow graph or on a pairs file, by a training plan.",
        discussion: """
            From the store (default): follows are positives, users on both sides share one index; each of up to \
            --validation-users users has its latest follow held out for validation (early stopping and model choice). \
            The relation index of the complex logic is built beside the model when the plan says so \
            (--relation-index), written to <model>.relations and <model>.relations.edges. \
            From --pairs FILE (user item [...] lines, .gz read directly, e.g. ml-1m.train.pairs.gz): each user's last \
            pair in file order is the validation split. --test-rating FILE with --test-negative reports the selected \
            model's test HR@10/NDCG@10 (NCF leave-one-out); training negatives avoid only training positives, so the \
            held-out items stay eligible as negatives, as in He et al.'s code. \
            Writes the model (--out), the per-epoch figures as CSV and a training curve as SVG beside it.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var planOptions: PlanOptions
    @Option(help: "Train on this pairs file instead of the store.") var pairs: String?
    @Option(help: "Test pairs (user item ...), reported with --test-negative.") var testRating: String?
    @Option(help: "NCF .negative file: 99 negatives per test pair.") var testNegative: String?
    @Option(help: "Where to write the model.") var out: String = "orbit-data/follow.model"

    func validate() throws {
        if testNegative != nil && testRating == nil { throw ValidationError("--test-negative needs --test-rating") }
        if pairs == nil && (testRating != nil || testNegative != nil) { throw ValidationError("--test-rating and --test-negative go with --pairs") }
    }

    func run() async throws {
        let plan = try planOptions.resolved()
        let progress = ProgressReporter()
        let files = ModelFiles(followModel: out, clickModel: "")
        if let pairs { return try trainOnPairs(pairs, plan: plan, files: files, progress: progress) }
        let loaded = try await storeOptions.location.loadSnapshot()
        let s = loaded.snapshot
        print("\(storeOptions.location): \(s.userCount) users, \(s.followees.edgeCount) follows")
        let set = try Retraining(plan: plan, files: files).trainFollow(s) { progress.message($0) }
        progress.finish()
        let st = set.followStatus!
        print(String(format: "trained in %.1f s; model written to %@ (%d parameters); figures in %@ and %@", st.trainSeconds ?? 0, out,
                     st.parameters, files.epochsCSV, files.curveSVG))
        if let r = set.relationsStatus {
            print(String(format: "relation index of %d follows built in %.1f s, written to %@", r.parameters, r.trainSeconds ?? 0, r.path))
        } else {
            print("no relation index (plan: relationIndex.build \(plan.relationIndex.build.rawValue), \(s.followees.edgeCount) follows): logic=complex is refused with this model")
        }
    }

    func trainOnPairs(_ pairs: String, plan: TrainingPlan, files: ModelFiles, progress: ProgressReporter) throws {
        let all = try NCFFiles.parsePairs(TextFile.read(path: pairs))
        let (train, held) = LeaveOneOut.splitLast(users: all.users, items: all.items)
        var test = PairList()
        var testCases: [LeaveOneOutCase] = []
        if let testRating { test = try NCFFiles.parsePairs(TextFile.read(path: testRating)) }
        if let testNegative { testCases = try NCFFiles.parseNegatives(TextFile.read(path: testNegative)) }
        let negItems = testCases.flatMap(\.negatives)
        let users = Int((all.users + test.users).max() ?? 0) + 1
        let items = Int((all.items + test.items + negItems).max() ?? 0) + 1
        // Training negatives avoid only the training positives (the held-out items stay eligible, as
        // in He et al.'s code); validation negatives avoid every split's positives.
        let data = try TrainingData(users: train.users, items: train.items, userCount: users)
        let everySplit = try ItemSets(userCount: users, pairs: [(all.users, all.items), (test.users, test.items)])
        let validation = try ValidationSet.sampled(users: held.users, heldOut: held.items, exclusion: everySplit, itemCount: items)
        print("\(pairs): \(all.count) pairs, \(users) users, \(items) items; \(train.count) train, \(held.count) validation")
        let trained = try FollowModelTraining(plan: plan).train(users: users, items: items, data: data, validation: validation) {
            progress.message($0)
        }
        progress.finish()
        let f = plan.follow
        try files.write(trained, index: nil, title: "\(f.kind) f=\(f.factors) layers=\(f.layers.map(String.init).joined(separator: ","))")
        print(String(format: "trained in %.1f s; model written to %@ (%d parameters); figures in %@ and %@", trained.seconds, out,
                     trained.model.parameterCount, files.epochsCSV, files.curveSVG))
        guard !testCases.isEmpty else { return }
        // With pretraining the GMF and MLP stages are models in their own right (each chosen on
        // validation), reported once each like the NeuMF model.
        for (kind, m) in trained.stages + [(trained.model.configuration.kind, trained.model)] {
            let report = LeaveOneOut.evaluate(cases: testCases, scorer: NeuMFScorer(model: m), k: 10)
            print(String(format: "test %@ (NCF leave-one-out, %@): HR@10 %.4f NDCG@10 %.4f (%d users)", "\(kind)",
                         f.refit ? "refitted on train + validation for the epochs chosen on validation" : "selected on validation",
                         report.hitRate, report.ndcg, report.users))
        }
    }
}

struct TrainClicks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clicks",
        abstract: "Fit the click model from the store's impressions (views with or without a click).",
        discussion: """
            Features as of --split of the interaction log (by time), labels from the impressions after it; the follow \
            model (--follow-model, when the file exists) gives the affinity feature. The same fit `orbit serve` runs when it \
            retrains.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Training plan (JSON) whose click section is used; --split overrides it.") var plan: String?
    @Option(help: "Share of the interaction log (by time) before the feature time (default \(TrainingPlan().click.split)).") var split: Double?
    @Option(help: "Follow model used as the affinity feature (when the file exists).") var followModel: String = "orbit-data/follow.model"
    @Option(help: "Where to write the click model (JSON).") var out: String = "orbit-data/click.json"

    func run() async throws {
        var p = try plan.map { try TrainingPlan.load(file: $0) } ?? TrainingPlan()
        if let split { p.click.split = split }
        do { try p.validate() } catch { throw ValidationError(error.description) }
        let (columns, _) = try await storeOptions.location.loadColumns()
        let follow = try ModelFiles(followModel: followModel, clickModel: out).loadFollow()?.follow
        let start = Date()
        guard let (model, _, n, clicked) = try Retraining(plan: p, files: ModelFiles(followModel: followModel, clickModel: out))
            .fitClick(columns, follow: follow)
        else {
            throw ValidationError("the store has too few interactions (\(columns.interactionTime.count); at least \(p.click.minimumInteractions)) or no click after the feature time to learn from")
        }
        print(String(format: "click model fitted on %d impressions (%d clicked) after %.0f%% of the log in %.2f s%@; written to %@",
                     n, clicked, p.click.split * 100, Date().timeIntervalSince(start),
                     follow == nil ? " (no follow model: affinity feature constant)" : "", out))
        print("weights: " + zip(ClickModel.featureNames, model.weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
    }
}

struct TrainAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Train every model a server retrains, by one plan: the follow model (with its relation index and ranker), then the click model.",
        discussion: """
            What `orbit serve` runs in a child process when it retrains (retrainIn: process): the store's follow graph \
            trains the follow model as `orbit train follow` does; the interaction log then fits the click model as \
            `orbit train clicks` does, with the new follow model as its affinity feature (where the log holds too few \
            interactions the click model file is left as it is). Every file is written to a temporary name and renamed. \
            The store comes from --store or, when that is absent, from the ORBIT_STORE environment variable (how the \
            server passes it: a PostgreSQL password stays off the command line).
            """)

    @Option(name: .long, help: "The store: a SQLite file path or a postgres:// URL (default: $ORBIT_STORE).") var store: String?
    @OptionGroup var planOptions: PlanOptions
    @Option(help: "Where to write the follow model.") var out: String = "orbit-data/follow.model"
    @Option(help: "Where to write the click model (JSON).") var clickModel: String = "orbit-data/click.json"
    @Option(help: "Also write what was trained (model statuses with their validation figures, JSON) here.") var report: String?

    func run() async throws {
        guard let where_ = store ?? ProcessInfo.processInfo.environment["ORBIT_STORE"], !where_.isEmpty else {
            throw ValidationError("no store: pass --store PATH-OR-URL or set ORBIT_STORE")
        }
        let plan = try planOptions.resolved()
        let location = StoreLocation(where_)
        let files = ModelFiles(followModel: out, clickModel: clickModel)
        let start = Date()
        let (columns, _) = try await location.loadColumns()
        let snapshot = Snapshot.build(columns)
        print("\(location): \(snapshot.userCount) users, \(snapshot.followees.edgeCount) follows, \(columns.interactionTime.count) interactions; "
              + String(format: "read in %.1f s", Date().timeIntervalSince(start)))
        var current = ModelSet()
        if let (c, status) = try files.loadClick() {
            current.click = c
            current.clickStatus = status
        }
        let set = try Retraining(plan: plan, files: files).trainAll(columns, snapshot: snapshot, keeping: current) { print($0) }
        try report.map { try RetrainReport(set).write(to: $0) }
        let st = set.followStatus!
        print(String(format: "trained in %.1f s: follow model %@ (%d parameters)%@%@; click model %@", Date().timeIntervalSince(start), out,
                     st.parameters, set.relations == nil ? "" : ", relation index", set.ranker == nil ? "" : ", ranker",
                     set.clickStatus.map { $0.origin == "trained" ? "fitted, \(clickModel)" : "kept, \(clickModel)" } ?? "none"))
    }
}
