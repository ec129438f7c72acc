import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitEval
import OrbitRecommend
import OrbitStore
import OrbitSynth
import Ranking

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model or the whole who-to-follow pipeline on held-out data; each protocol is a subcommand.",
        subcommands: [EvaluateNCF.self, EvaluateFollow.self, EvaluatePosts.self, EvaluateImpressions.self, EvaluateEngagement.self,
                      EvaluateFoldIn.self])
}

struct EvaluateImpressions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "impressions",
        abstract: "Impression discounting on a generated network where each user is shown suggestions again and again.",
        discussion: """
            The generated network's follows are split by time (validation: the slice before the test cut). Each held-out             user asks for who to follow --requests times in a row, is shown the top --k each time, and the impressions are             recorded as POST /v1/impressions records them. Reported with and without discounting (the defaults of the             impressions configuration): distinct accounts shown per user, HR@k of each request against the user's later             follows, and the share of users shown one of their later follows at some point in the session.
            """)

    @Option(help: "Users of the generated network.") var users: Int = 5_000
    @Option(help: "Seed of the generated network.") var networkSeed: UInt64 = 1
    @Option(help: "Requests per user.") var requests: Int = 10
    @Option(help: "Suggestions shown per request.") var k: Int = 10
    @Option(help: "Held-out users per split at most.") var heldOut: Int = 1_000

    func run() throws {
        var cfg = SynthConfig()
        cfg.users = users
        cfg.seed = networkSeed
        let s = Snapshot.build(Generator(config: cfg).generate().columns())
        let holdout = FollowHoldout.byTime(s, cuts: .fractions(s, test: 0.1), seed: 1, maxUsers: heldOut)
        print("\(s.userCount) users, \(s.followees.edgeCount) follows; \(holdout.validation.count) validation and \(holdout.test.count) test users")
        for (split, graph, later) in [("validation", holdout.train, holdout.validation), ("test", holdout.testInput, holdout.test)] {
            for discount in [nil, ImpressionDiscount()] {
                let r = ImpressionStudy.run(label: "\(split), discounting \(discount == nil ? "off" : "on")", graph: graph, later: later,
                                            requests: requests, k: k, discount: discount)
                print(r)
            }
        }
    }
}

struct EvaluateNCF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ncf",
        abstract: "A trained model on NCF files: leave-one-out, full ranking and the reference's 1:4 classification test.",
        discussion: """
            The NCF leave-one-out protocol (HR@10, NDCG@10 of the test item among the given 99 negatives), full ranking \
            against all items with train positives excluded (HR, Recall, NDCG at 10 and 20), and the reference's 1:4 \
            classification test (precision, recall, F1, accuracy at 0.5, AUC).
            """)

    @Option(help: "The model file.") var modelFile: String
    @Option(help: "The train pairs (user item ...).") var pairs: String
    @Option(help: "The test pairs (user item ...).") var testRating: String
    @Option(help: "NCF .negative file (99 negatives per test pair) for leave-one-out.") var testNegative: String?

    func run() throws {
        let m = try NeuMFModel.load(from: modelFile)
        let scorer = NeuMFScorer(model: m)
        let train = try NCFFiles.parsePairs(TextFile.read(path: pairs))
        let test = try NCFFiles.parsePairs(TextFile.read(path: testRating))
        let users = m.configuration.userCount, items = m.configuration.itemCount
        print("model \(m.configuration); \(train.count) train pairs, \(test.count) test pairs")
        if let testNegative {
            let cases = try NCFFiles.parseNegatives(TextFile.read(path: testNegative))
            let r = LeaveOneOut.evaluate(cases: cases, scorer: scorer, k: 10)
            print(String(format: "leave-one-out (given negatives): HR@10 %.4f NDCG@10 %.4f (%d users)", r.hitRate, r.ndcg, r.users))
        }
        let trainSets = try ItemSets(userCount: users, users: train.users, items: train.items)
        let heldOut = try ItemSets(userCount: users, users: test.users, items: test.items)
        for r in FullRanking.evaluate(heldOut: heldOut, exclude: trainSets, itemCount: items, scorer: scorer, ks: [10, 20]) {
            print(String(format: "full ranking: HR@%d %.4f Recall@%d %.4f NDCG@%d %.4f (%d users)",
                         r.k, r.hitRate, r.k, r.recall, r.k, r.ndcg, r.users))
        }
        let all = try ItemSets(userCount: users, pairs: [(train.users, train.items), (test.users, test.items)])
        let set = Classification.makeTestSet(users: test.users, items: test.items, exclusion: all, itemCount: items)
        let c = Classification.evaluate(set, scorer: scorer)
        print(String(format: "1:4 classification: precision %.4f recall %.4f F1 %.4f accuracy %.4f AUC %.4f (%d pairs)",
                     c.precision, c.recall, c.f1, c.accuracy, c.auc ?? .nan, c.count))
    }
}

struct EvaluateFollow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow",
        abstract: "Hold out follows, train on the rest, and compare baselines, every source alone and the blends.",
        discussion: """
            Where follows carry times (--holdout time, the default for such graphs), splits by time (SPEC §4): test = \
            the follows made after the cut (--test-fraction of the latest follows, or --split-time) by users who followed \
            someone before it, validation = the slice of the same size just before, and every input graph holds only \
            the follows made before its cut. Otherwise (--holdout random, the default without times) holds out 10% of the \
            followees of users with at least 5, once for validation and once for test (seeded). Trains a model on the \
            training graph by the training plan and ranks against every user the user does not follow: HR@10, Recall@20, \
            NDCG@10, coverage and source shares of every baseline, every source alone and the blends; the blend is chosen \
            on validation, every row reported on test. --test FILE (lines `follower followee` in external ids) evaluates \
            on given held-out follows; validation then takes each test user's latest earlier follows where times exist.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var planOptions: PlanOptions
    enum Holdout: String, ExpressibleByArgument, CaseIterable { case auto, time, random }

    @Option(help: "Held-out test follows (external ids), instead of a split of the store's follows.") var test: String?
    @Option(help: "How to hold out follows: time (split by follow time), random, or auto (time where follows carry times).")
    var holdout: Holdout = .auto
    @Option(help: "Time split: the share of the latest follows held out for test (the same share before it validates).")
    var testFraction: Double = 0.1
    @Option(help: "Time split: the test cut in Unix seconds instead of --test-fraction (validation: as many follows just before it).")
    var splitTime: Int64?
    @Option(help: "Users evaluated per split at most.") var users: Int = 2_000
    @Option(help: "Seed of the hold-out.") var holdoutSeed: UInt64 = 1
    @Option(help: "Write the table (Markdown) here too.") var report: String?
    @Flag(help: "Skip the complex logic (no relation-vector index).") var noComplex = false
    @Flag(inversion: .prefixedNo, help: "Also fit and evaluate the learned ranking stage (XGBoost LambdaMART over the sources' union), with ablations.")
    var ranker = true
    @Option(help: "Ranker: candidates taken from each source's list.") var perSource: Int = 50
    @Option(help: "Ranker: users of each of its own training splits (carved out of the training graph).") var rankerUsers: Int = 2_000
    @Option(help: "Ranker: training splits (successive earlier time slices, or random maskings without times).") var rankerSlices: Int = 2
    @Flag(inversion: .prefixedNo, help: "Ranker: fit the rankers scored on test with the validation follows as one more slice (the settings are still chosen on validation).")
    var rankerRefit = true
    @OptionGroup var expansion: ExpansionOptions

    func validate() throws {
        guard testFraction > 0, testFraction < 0.5 else { throw ValidationError("--test-fraction must be in (0, 0.5)") }
        if test != nil && (holdout != .auto || splitTime != nil) { throw ValidationError("--test FILE names the test follows: no --holdout or --split-time with it") }
        if splitTime != nil && holdout == .random { throw ValidationError("--split-time goes with the time split, not --holdout random") }
    }

    func run() async throws {
        let plan = try planOptions.resolved()
        let progress = ProgressReporter()
        let loaded = try await storeOptions.location.loadSnapshot()
        let s = loaded.snapshot
        let holdout: FollowHoldout
        if let test {
            var pairs: [(UserIndex, UserIndex)] = []
            for (n, line) in try TextFile.read(path: test).split(separator: "\n").enumerated() {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                guard f.count >= 2 else { throw ValidationError("\(test):\(n + 1): expected `follower followee`") }
                guard let a = loaded.catalog.users.index(of: String(f[0])), let b = loaded.catalog.users.index(of: String(f[1])) else {
                    throw ValidationError("\(test):\(n + 1): unknown user id")
                }
                pairs.append((a, b))
            }
            holdout = FollowHoldout.given(s, test: pairs, seed: holdoutSeed)
            print(s.hasFollowTimes ? "validation: each test user's latest earlier follows" : "validation: a random 10% of each test user's other follows")
        } else if self.holdout == .time || (self.holdout == .auto && s.hasFollowTimes) {
            guard s.hasFollowTimes else { throw ValidationError("--holdout time: the store's follows carry no times (all equal); use --holdout random") }
            var cuts = FollowHoldout.TimeCuts.fractions(s, test: testFraction)
            if let splitTime {
                let after = s.followedAt.filter { $0 >= splitTime }.count
                let sorted = s.followedAt.sorted()
                let first = sorted.firstIndex { $0 >= splitTime } ?? sorted.count
                cuts = FollowHoldout.TimeCuts(validation: sorted[max(0, first - after)], test: splitTime)
            }
            holdout = FollowHoldout.byTime(s, cuts: cuts, seed: holdoutSeed, maxUsers: users)
            print("time split: validation follows from \(cuts.validation), test follows from \(cuts.test) (Unix seconds); input graphs hold only earlier follows")
        } else {
            holdout = FollowHoldout.random(s, seed: holdoutSeed, maxUsers: users)
            print("random hold-out: 10% of each evaluated user's followees for validation, 10% for test")
        }
        let pairs = { (m: [UserIndex: [UserIndex]]) in m.flatMap { u, vs in vs.map { (u, $0) } } }
        print("\(storeOptions.location): \(s.userCount) users, \(s.followees.edgeCount) follows; "
            + "\(holdout.validation.count) validation users (\(pairs(holdout.validation).count) follows), "
            + "\(holdout.test.count) test users (\(pairs(holdout.test).count) follows)")

        let data = try FollowModelData(graph: holdout.train, validation: pairs(holdout.validation), heldOut: pairs(holdout.test))
        let training = FollowModelTraining(plan: plan)
        let trained = try training.train(
            users: s.userCount, items: s.userCount, data: data.training.orderedByTime(in: holdout.train), validation: data.validation
        ) {
            progress.message($0)
        }
        progress.finish()
        print(String(format: "model trained on the training graph in %.1f s", trained.seconds))
        // Validation queries are scored by the model that never saw the validation follows; test
        // queries by the one the plan serves (refitted on train + validation when it says so).
        let scorer = NeuMFPairScorer(model: trained.validated)
        let testScorer = plan.follow.refit ? NeuMFPairScorer(model: trained.model) : scorer
        var index: RelationIndex?
        if !noComplex {
            let t = Date()
            var p = plan
            p.relationIndex.build = .always
            // From the validated model: the index serves validation queries too.
            index = try FollowModelTraining(plan: p).relationIndex(for: trained.validated, graph: holdout.train.followees)
            print(String(format: "relation vectors of %d training follows indexed (HNSW) in %.1f s", holdout.train.followees.edgeCount,
                         Date().timeIntervalSince(t)))
        }
        let (rows, _, chosenName) = FollowBenchmark.run(holdout: holdout, scorer: scorer, testScorer: testScorer, edgeIndex: index, expansion: expansion.limits) {
            progress.message($0)
        }
        progress.finish()
        progress.finish()
        var table = FollowBenchmark.markdown(rows, chosen: chosenName)
        if ranker {
            let splits = FollowRankerStudy.trainingSplits(of: holdout.train, slices: rankerSlices, seed: holdoutSeed &+ 1, maxUsers: rankerUsers)
            for (k, split) in splits.enumerated() {
                let labelCount = split.labels.values.reduce(0) { $0 + $1.count }
                print("ranker training split \(k + 1): \(split.labels.count) users, \(labelCount) later follows, input graph \(split.input.followees.edgeCount) follows")
            }
            // The ranker's model features come from a model that never saw any split's labels: the earliest input.
            let earliest = splits.last!.input
            let d = try FollowModelData(graph: earliest, validationUsers: plan.follow.validationUsers, seed: plan.seed)
            var p = plan
            p.follow.refit = false
            let rankerModel = try FollowModelTraining(plan: p).train(
                users: s.userCount, items: s.userCount, data: d.training.orderedByTime(in: earliest), validation: d.validation
            ) { progress.message("ranker's follow model: " + $0) }
            progress.finish()
            var grid: [RankerParameters] = []
            for trees in [100, 300] {
                for depth in [3, 6] {
                    for minChild in [1.0, 10.0] {
                        var rp = RankerParameters()
                        rp.trees = trees
                        rp.maxDepth = depth
                        rp.minChildWeight = minChild
                        rp.learningRate = 0.1
                        rp.seed = plan.seed
                        grid.append(rp)
                    }
                }
            }
            let r = try FollowRankerStudy.run(
                holdout: holdout, splits: splits, rankerScorer: NeuMFPairScorer(model: rankerModel.model), scorer: scorer, testScorer: testScorer,
                candidates: grid, perSource: perSource, refit: rankerRefit, expansion: expansion.limits
            ) { progress.message($0) }
            progress.finish()
            let ranked = FollowRankerStudy.markdown(r)
            // The ranker rows go in the same table, before the notes line.
            let notes = ranked.components(separatedBy: "\n\n")
            table += notes[0] + (notes.count > 1 ? "\n" + notes[1...].joined(separator: "\n\n") : "")
        }
        print(table)
        if let report { try table.write(toFile: report, atomically: true, encoding: .utf8) }
    }
}

struct EvaluatePosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posts",
        abstract: "The click model against hot posts and \"latest from followees\" on a generated network split by time.",
        discussion: """
            The click model is fitted on the impressions between 60% and 80% of the time with features as of 60%, then \
            ranks each user's impressions after 80% (features as of 80%): AUC and HR@10 against hot posts and "latest from \
            followees". The follow model of the affinity feature is trained by the training plan on each snapshot.
            """)

    @Option(help: "Users of the generated network.") var users: Int = 2_000
    @Option(help: "Seed of the generated network.") var networkSeed: UInt64 = 1
    @OptionGroup var planOptions: PlanOptions
    @Option(help: "Write the fitted click model (JSON) here.") var saveClickModel: String?

    func run() throws {
        let plan = try planOptions.resolved()
        var cfg = SynthConfig()
        cfg.users = users
        cfg.seed = networkSeed
        let net = Generator(config: cfg).generate()
        let progress = ProgressReporter()
        let t0 = Date()
        let r = try ClickModelStudy.run(net.columns()) { s in
            NeuMFPairScorer(model: try FollowModelTraining(plan: plan).train(graph: s) { progress.message($0) }.model)
        }
        progress.finish()
        print("\(net.userCount) users, \(net.posts.count) posts, \(net.interactions.count) interactions; "
            + "\(r.trainImpressions) training impressions (\(r.trainClicked) clicked), \(r.testImpressions) test impressions (\(r.testClicked) clicked)")
        print(String(format: "two follow models and the click model trained in %.1f s", Date().timeIntervalSince(t0)))
        if let saveClickModel { try r.model.save(to: saveClickModel) }
        print("click model weights: " + zip(ClickModel.featureNames, r.model.weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
        print(r.markdown)
    }
}

struct EvaluateEngagement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engagement",
        abstract: "SPEC §2.2's 4-bit order against plain counts and recency, on the SNAP Higgs activity file.",
        discussion: """
            --activity FILE: `userA userB time RT|RE|MT` (retweet → repost, reply → comment, mention → author click); \
            trains on the first 80% of time and predicts whom each user interacts with in the last 20%.
            """)

    @Option(help: "The Higgs activity file (.gz read directly).") var activity: String

    func run() throws {
        let parsed = try HiggsActivity.parse(TextFile.read(path: activity), path: activity)
        let s = EngagementOrderStudy.run(parsed.events)
        print("\(activity): \(parsed.events.count) interactions, \(parsed.userCount) users; train \(s.trainEvents), test \(s.testEvents) (split at 80% of time)")
        print(String(format: "users evaluated: %d; test (user, author) pairs whose author was engaged with in train: %.1f%%",
                     s.usersEvaluated, s.reachable * 100))
        print("| order | HR@10 | Recall@10 | NDCG@10 |\n|---|---|---|---|")
        for r in s.results {
            print(String(format: "| %@ | %.4f | %.4f | %.4f |", r.order.rawValue, r.hitRate10, r.recall10, r.ndcg10))
        }
    }
}

struct EvaluateFoldIn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foldin",
        abstract: "How close fold-in comes to retraining, on the store's follow graph.",
        discussion: """
            --users users (with at least 5 followees) are made "new": a model is trained without their follows and each is \
            folded in from its follows; a second model is retrained with them. Reports the overlap of their top-20 lists and \
            both models' HR@10 on one held-out follow per user.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var planOptions: PlanOptions
    @Option(help: "Users made new.") var users: Int = 2_000
    @Option(help: "Seed of the choice of new users and held-out follows.") var holdoutSeed: UInt64 = 1

    func run() async throws {
        let plan = try planOptions.resolved()
        let progress = ProgressReporter()
        let s = try await storeOptions.location.loadSnapshot().snapshot
        let r = try FoldInStudy.run(s, users: users, seed: holdoutSeed) { graph, variant, heldOut in
            let d = try FollowModelData(graph: graph, heldOut: heldOut, validationUsers: plan.follow.validationUsers, seed: plan.seed)
            let t = try FollowModelTraining(plan: plan).train(users: s.userCount, items: s.userCount, data: d.training, validation: d.validation) {
                progress.message("\(variant): \($0)")
            }
            progress.finish()
            print(String(format: "%@ trained in %.1f s", variant == .retrained ? "retrained (new users included)" : "model without the new users", t.seconds))
            return t.model
        }
        print(String(format: "%d new users: fold-in %.1f ms per user; top-20 overlap with the retrained model %.3f", r.users,
                     r.foldInMillisecondsPerUser, r.top20Overlap))
        print(String(format: "HR@10 on one held-out follow each: retrained %.4f, folded-in %.4f, most-followed (no model) %.4f",
                     r.retrainedHR10, r.foldedInHR10, r.mostFollowedHR10))
    }
}
