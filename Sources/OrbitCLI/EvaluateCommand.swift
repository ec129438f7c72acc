import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEval
import OrbitRecommend
import OrbitStore
import OrbitSynth

struct Evaluate: AsyncParsableCommand {
    enum Task: String, ExpressibleByArgument, CaseIterable { case ncf, follow, engagement, foldin, posts }

    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model (NCF protocols) or the whole who-to-follow pipeline on held-out follows.",
        discussion: """
            --task ncf: a trained model (--model) on --pairs (train), --test-rating and --test-negative: the NCF
              leave-one-out protocol (HR@10, NDCG@10 among the given 99 negatives), full ranking against all items
              with train positives excluded (HR, Recall, NDCG at 10 and 20), and the reference's 1:4 classification
              test (precision, recall, F1, accuracy at 0.5, AUC).
            --task follow: holds out followees of users with at least 5 (seeded; a validation split to tune, a test
              split to report), trains a model on the rest with the model options, and ranks against every user the
              user does not follow: HR@10, Recall@20, NDCG@10, coverage and source shares of every baseline, every
              source alone and the blends; the blend is chosen on validation. --test FILE (lines `follower followee`
              in external ids) evaluates on given held-out follows instead, e.g. a split by time.
            --task engagement --activity FILE: SNAP Higgs activity (`userA userB time RT|RE|MT`: retweet → repost,
              reply → comment, mention → author click); trains on the first 80% of time and predicts whom each user
              interacts with in the last 20%, comparing SPEC §2.2's 4-bit order with plain counts and with recency.
            --task foldin: how close fold-in comes to retraining. --users users (with at least 5 followees) are made
              "new": a model is trained without their follows and each is folded in from its follows; a second model
              is retrained with them. Reports the overlap of their top-20 lists and both models' HR@10 on one
              held-out follow per user.
            --task posts: on a generated network (--users users) split by time: the click model is fitted on
              impressions between 60% and 80% of the time with features as of 60%, then ranks each user's impressions
              after 80% (features as of 80%). AUC and HR@10 against hot posts and "latest from followees".
            """)

    @Option(help: "What to evaluate: ncf or follow.") var task: Task = .follow
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "ncf: the model file.") var modelFile: String?
    @Option(help: "ncf: the train pairs.") var pairs: String?
    @Option(help: "ncf: test pairs.") var testRating: String?
    @Option(help: "ncf: NCF .negative file.") var testNegative: String?
    @Option(help: "follow: held-out test follows (external ids), instead of a random hold-out.") var test: String?
    @Option(help: "follow: users evaluated (random hold-out).") var users: Int = 2_000
    @Option(help: "follow: seed of the hold-out.") var holdoutSeed: UInt64 = 1
    @Option(help: "follow: write the table (Markdown) here too.") var report: String?
    @Option(help: "engagement: the Higgs activity file.") var activity: String?
    @Flag(help: "follow: skip the complex logic (no relation-vector index).") var noComplex = false
    @OptionGroup var expansion: ExpansionOptions
    @Option(help: "posts: write the fitted click model (JSON) here.") var saveClickModel: String?

    func run() async throws {
        switch task {
        case .ncf: try runNCF()
        case .follow: try await runFollow()
        case .engagement: try runEngagement()
        case .foldin: try await runFoldIn()
        case .posts: try runPosts()
        }
    }

    func runNCF() throws {
        guard let modelFile, let pairs, let testRating else {
            throw ValidationError("--task ncf needs --model-file, --pairs and --test-rating (and --test-negative for leave-one-out)")
        }
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

    func runPosts() throws {
        var cfg = SynthConfig()
        cfg.users = users
        cfg.seed = holdoutSeed
        let net = Generator(config: cfg).generate()
        let columns = net.columns()
        let t60 = ClickModelTraining.quantile(columns, 0.6), t80 = ClickModelTraining.quantile(columns, 0.8)
        let s60 = ClickModelTraining.snapshot(columns, at: t60), s80 = ClickModelTraining.snapshot(columns, at: t80)
        let progress = ProgressReporter()
        func followModel(_ s: Snapshot) throws -> NeuMFPairScorer {
            let d = try FollowModelData(graph: s, validationUsers: 2_000)
            let (m, _) = try model.train(users: s.userCount, items: s.userCount, data: d.training, validation: d.validation) { progress.message($0) }
            return NeuMFPairScorer(model: m)
        }
        let test = ClickModelTraining.impressions(columns, from: t80, to: .max)
        var t0 = Date()
        let aff60 = try followModel(s60)
        print(String(format: "follow model (affinity feature) trained in %.1f s", Date().timeIntervalSince(t0)))
        t0 = Date()
        let (clickModel, trainCount, trainClicked) = ClickModelTraining.fit(columns, featureTime: t60, until: t80, affinity: aff60)
        print("\(net.userCount) users, \(net.posts.count) posts, \(net.interactions.count) interactions; "
            + "\(trainCount) training impressions (\(trainClicked) clicked), \(test.count) test impressions (\(test.filter(\.2).count) clicked)")
        print(String(format: "click model: features and fit (30 epochs) in %.2f s", Date().timeIntervalSince(t0)))
        if let saveClickModel { try clickModel.save(to: saveClickModel) }
        print("click model weights: " + zip(ClickModel.featureNames, clickModel.weights).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
        let aff80 = try followModel(s80)
        let view80 = LiveView(snapshot: s80)
        let scorer = ClickModelScorer(model: clickModel, affinity: aff80, now: t80)
        let hot = HotConfig()
        var byUser: [UserIndex: [(PostIndex, Bool)]] = [:]
        for (u, p, l) in test { byUser[u, default: []].append((p, l)) }
        var methods: [(String, [Float])] = [("click model", []), ("hot posts", []), ("latest from followees", [])]
        var labels: [Bool] = []
        var hits = [0, 0, 0], evaluated = 0
        for u in byUser.keys.sorted() {
            let items = byUser[u]!
            let posts = items.map(\.0)
            let model = scorer.clickProbabilities(user: u, posts: posts, view: view80)
            let hotScore: [Float] = posts.map { p in
                var e: Float = 0
                for k in 0..<Snapshot.kindCount { e += hot.weights[k] * Float(s80.postKindCounts[Int(p) * Snapshot.kindCount + k]) }
                return HotPosts.score(engagement: e, createdAt: s80.postCreatedAt[Int(p)], now: t80, config: hot)
            }
            let latest: [Float] = posts.map { p in
                let a = s80.postAuthor[Int(p)]
                return (view80.follows(u, a) ? 1e10 : 0) + Float(s80.postCreatedAt[Int(p)] - t60)
            }
            for (k, sc) in [model, hotScore, latest].enumerated() { methods[k].1 += sc }
            labels += items.map(\.1)
            guard items.count >= 10, items.contains(where: \.1), items.contains(where: { !$0.1 }) else { continue }
            evaluated += 1
            for (k, sc) in [model, hotScore, latest].enumerated() {
                let top = items.indices.sorted { (sc[$0], -$0) > (sc[$1], -$1) }.prefix(10)
                if top.contains(where: { items[$0].1 }) { hits[k] += 1 }
            }
        }
        print("| method | AUC (all test impressions) | HR@10 (\(evaluated) users with ≥ 10 impressions, a click and a non-click) |\n|---|---|---|")
        for (k, (name, sc)) in methods.enumerated() {
            let auc = Metrics.auc(scores: sc, labels: labels) ?? .nan
            print(String(format: "| %@ | %.4f | %.4f |", name, auc, Double(hits[k]) / Double(max(1, evaluated))))
        }
    }

    func runFoldIn() async throws {
        let progress = ProgressReporter()
        let s = try await SQLiteStore(path: storeOptions.store).loadSnapshot().snapshot
        var gen = SplitMix64(seed: holdoutSeed)
        var pool = (0..<Int32(s.userCount)).filter { s.followees.degree($0) >= 5 && s.userFlags[Int($0)].isEmpty }
        pool.shuffle(using: &gen)
        let newUsers = Array(pool.prefix(users))
        let isNew = Set(newUsers)
        // One held-out follow per new user, out of every model's training data.
        var heldOut: [UserIndex: UserIndex] = [:]
        for u in newUsers { heldOut[u] = s.followees.row(u)[s.followees.range(u).lowerBound + gen.below(s.followees.degree(u))] }
        let retrainGraph = s.keepingFollows { a, b in heldOut[a] != b }
        let withoutGraph = s.keepingFollows { a, _ in !isNew.contains(a) }
        let test = heldOut.map { ($0.key, $0.value) }
        func trainOn(_ g: Snapshot, _ label: String) throws -> NeuMFModel {
            let d = try FollowModelData(graph: g, alsoExclude: test, validationUsers: 2_000)
            let t = Date()
            let (m, _) = try model.train(users: s.userCount, items: s.userCount, data: d.training, validation: d.validation) {
                progress.message("\(label): \($0)")
            }
            print(String(format: "%@ trained in %.1f s", label, Date().timeIntervalSince(t)))
            return m
        }
        let retrained = try trainOn(retrainGraph, "retrained (new users included)")
        let without = try trainOn(withoutGraph, "model without the new users")
        let scoreR = NeuMFScorer(model: retrained)
        var overlap = 0.0, hitR = 0, hitF = 0, hitP = 0, foldMs = 0.0
        let popular = (0..<Int32(s.userCount)).sorted { s.followers.degree($0) > s.followers.degree($1) }
        for u in newUsers {
            let follows = Array(retrainGraph.followees.row(u))
            let candidates = (0..<Int32(s.userCount)).filter { $0 != u && !follows.binarySearchContains($0) }
            let t = Date()
            let row = without.foldIn(positives: follows, exclude: [u])
            foldMs += Date().timeIntervalSince(t) * 1000
            let folded = without.logits(userRow: row, items: candidates)
            let own = scoreR.score(user: u, candidates: candidates, output: .logit)
            func top(_ sc: [Float], _ n: Int) -> [Int32] {
                candidates.indices.sorted { sc[$0] > sc[$1] }.prefix(n).map { candidates[$0] }
            }
            let tf = top(folded, 20), tr = top(own, 20)
            overlap += Double(Set(tf).intersection(tr).count) / 20
            if tf.prefix(10).contains(heldOut[u]!) { hitF += 1 }
            if tr.prefix(10).contains(heldOut[u]!) { hitR += 1 }
            if popular.filter({ $0 != u && !follows.binarySearchContains($0) }).prefix(10).contains(heldOut[u]!) { hitP += 1 }
        }
        let n = Double(newUsers.count)
        print(String(format: "%d new users: fold-in %.1f ms per user; top-20 overlap with the retrained model %.3f", newUsers.count, foldMs / n, overlap / n))
        print(String(format: "HR@10 on one held-out follow each: retrained %.4f, folded-in %.4f, most-followed (no model) %.4f",
                     Double(hitR) / n, Double(hitF) / n, Double(hitP) / n))
    }

    func runEngagement() throws {
        guard let activity else { throw ValidationError("--task engagement needs --activity FILE") }
        var ids: [Substring: Int32] = [:]
        func id(_ s: Substring) -> Int32 {
            if let i = ids[s] { return i }
            let i = Int32(ids.count)
            ids[s] = i
            return i
        }
        var events: [AuthorInteraction] = []
        let text = try TextFile.read(path: activity)
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ")
            guard f.count == 4, let t = Int64(f[2]) else { throw ValidationError("\(activity):\(n + 1): expected `userA userB time kind`") }
            let kind: Interaction.Kind
            switch f[3] {
            case "RT": kind = .repost
            case "RE": kind = .comment
            case "MT": kind = .authorClick
            default: throw ValidationError("\(activity):\(n + 1): unknown kind \(f[3]) (expected RT, RE or MT)")
            }
            events.append(AuthorInteraction(user: id(f[0]), author: id(f[1]), kind: kind, time: t))
        }
        let s = EngagementOrderStudy.run(events)
        print("\(activity): \(events.count) interactions, \(ids.count) users; train \(s.trainEvents), test \(s.testEvents) (split at 80% of time)")
        print(String(format: "users evaluated: %d; test (user, author) pairs whose author was engaged with in train: %.1f%%",
                     s.usersEvaluated, s.reachable * 100))
        print("| order | HR@10 | Recall@10 | NDCG@10 |\n|---|---|---|---|")
        for r in s.results {
            print(String(format: "| %@ | %.4f | %.4f | %.4f |", r.order.rawValue, r.hitRate10, r.recall10, r.ndcg10))
        }
    }

    func runFollow() async throws {
        guard FileManager.default.fileExists(atPath: storeOptions.store) else {
            throw ValidationError("no store at \(storeOptions.store): import a follow graph first")
        }
        let progress = ProgressReporter()
        let loaded = try await SQLiteStore(path: storeOptions.store).loadSnapshot()
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
        } else {
            holdout = FollowHoldout.random(s, seed: holdoutSeed, maxUsers: users)
        }
        let pairs = { (m: [UserIndex: [UserIndex]]) in m.flatMap { u, vs in vs.map { (u, $0) } } }
        print("\(storeOptions.store): \(s.userCount) users, \(s.followees.edgeCount) follows; "
            + "\(holdout.validation.count) validation users (\(pairs(holdout.validation).count) follows), "
            + "\(holdout.test.count) test users (\(pairs(holdout.test).count) follows)")

        let data = try FollowModelData(graph: holdout.train, validation: pairs(holdout.validation), alsoExclude: pairs(holdout.test))
        let start = Date()
        let (trained, _) = try model.train(users: s.userCount, items: s.userCount, data: data.training, validation: data.validation) {
            progress.message($0)
        }
        print(String(format: "model trained on the training graph in %.1f s", Date().timeIntervalSince(start)))
        let scorer = NeuMFPairScorer(model: trained)
        var index: RelationIndex?
        if !noComplex {
            let t = Date()
            index = try RelationIndex(graph: holdout.train.followees, scorer: scorer, efConstruction: 64)
            print(String(format: "relation vectors of %d training follows indexed (HNSW) in %.1f s", holdout.train.followees.edgeCount,
                         Date().timeIntervalSince(t)))
        }
        let (rows, _, chosenName) = FollowBenchmark.run(holdout: holdout, scorer: scorer, edgeIndex: index, expansion: expansion.limits) {
            progress.message($0)
        }
        let table = FollowBenchmark.markdown(rows, chosen: chosenName)
        print(table)
        if let report { try table.write(toFile: report, atomically: true, encoding: .utf8) }
    }
}
