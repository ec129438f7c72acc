import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitRecommend
import OrbitStore

struct Bench: AsyncParsableCommand {
    enum What: String, ExpressibleByArgument, CaseIterable { case follow, feed, similar, score, relations, train, ingest, rebuild }

    static let configuration = CommandConfiguration(
        abstract: "Measure request latency (who to follow, mixed feed) or model scoring speed on the store's data.",
        discussion: """
            follow: times `recommend` for --requests users drawn at random (seeded) among users with behaviour, with the
              model logic --logic, and prints p50 / p90 / p99 / max in milliseconds, then a digest of every answer's
              length, ids and scores: two builds that print the same digest on the same store, model and seed gave
              the same answers. Build with -c release.
            feed: the same for the mixed feed (--posts posts, then users up to --k), digest included.
            similar: the same for "accounts like @x" (GET /v1/users/{id}/similar) with --k accounts, for anchors drawn
              at random among accounts with followers (seeded); with --model, the embeddings reorder the overlap.
            score: scores every user as a candidate for --requests users with the batched scorer (the simple logic's
              inner loop) and prints candidates per second and milliseconds per user.
            train: NeuMF training throughput on synthetic pairs (--shape USERS,ITEMS,POSITIVES; Zipf-like popularity
              as in the Keras peer: users s=0.5, items s=1.0): seconds per epoch and samples per second, no store needed.
            ingest: appends --requests batches of --batch follows (new users following existing ones) to the store, one
              transaction each, as the service's write path does, with --durability; prints batches/s and latency.
              It writes to the store: use a scratch copy.
            rebuild: what the server's scheduled rebuild costs on one thread: the store read as columns and a snapshot
              built from them (a full rebuild), then --rounds rounds of --requests changes (the soak's ingest mix: 5
              follows, 3 interactions, 1 block, 1 dismissal per 10, between random users, in memory only) folded into
              the snapshot and the engine built, each timed. Run it on a quiet machine: under load the server's
              rebuild runs at lower priority.
            relations: computes the relation vector of every follow, builds the HNSW index (timed, --ef-construction),
              and for --requests query edges compares HNSW (ef 16…256) with exact search: recall@10 and queries/s.
            """)

    @Argument(help: "What to measure: follow, feed, similar, score, relations, train, ingest or rebuild.") var what: What = .follow
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "A trained follow model (orbit train), with its relation index when one is beside it; without it the model logics are refused.") var model: String?
    @Option(help: "Model logic for follow requests.") var logic: ModelLogic = .graph
    @Flag(help: "follow: ask for the ranker's feature contributions too, as explain=true does over HTTP.") var explain = false
    @Option(help: "Requests to time.") var requests: Int = 1_000
    @Option(help: "Slots per answer.") var k: Int = 20
    @OptionGroup var expansion: ExpansionOptions
    @Option(help: ArgumentHelp(
        "follow, feed: personalised PageRank pushes per request at most, in the ranking stage's union.",
        discussion: "For measuring what these bounds cost: a ranker was trained with the defaults, so other values change its answers."))
    var pageRankPushes: Int = BlendConfig().pageRankPushes
    @Option(help: "follow, feed, similar: edges read per similar-accounts search at most (see --page-rank-pushes).")
    var similarEdges: Int = SimilarAccountsConfig().edges
    @Option(help: "Posts in a mixed feed.") var posts: Int = 10
    @Option(help: "Threads for the scorer (score).") var threads: Int = 0
    @Option(help: "Random seed for the users.") var seed: UInt64 = 3
    @Option(help: "relations: HNSW efConstruction.") var efConstruction: Int = 64
    @Option(help: "train: users,items,positives of the synthetic data.") var shape: String = "6040,3706,994169"
    @Option(help: "train: epochs to time.") var epochs: Int = 2
    @Flag(help: "train: put each positive and its negatives in one mini-batch (instead of shuffling instances).")
    var grouped = false

    @Option(help: "ingest: follows per batch (one transaction each).") var batch: Int = 10
    @Option(help: "rebuild: rounds of changes folded into the snapshot and engine builds to time.") var rounds: Int = 3
    @Option(help: "ingest: what a committed batch survives on SQLite: full (power loss) or normal (process crash).")
    var durability: Durability = .full

    func validate() throws {
        guard pageRankPushes > 0 else { throw ValidationError("--page-rank-pushes must be at least 1 (got \(pageRankPushes))") }
        guard similarEdges > 0 else { throw ValidationError("--similar-edges must be at least 1 (got \(similarEdges))") }
    }

    func run() async throws {
        if what == .train { return try runTrain() }
        if what == .ingest { return try await runIngest() }
        if what == .rebuild { return try await runRebuild() }
        var t = Date()
        let loaded = try await storeOptions.location.loadSnapshot()
        let s = loaded.snapshot
        print(String(format: "snapshot: %d users, %d follows, %d posts (%.1f s)", s.userCount, s.followees.edgeCount, s.postCount,
                     Date().timeIntervalSince(t)))
        t = Date()
        let set = try loadModels()
        if set.follow != nil {
            let beside = [set.relations == nil ? nil : "its relation index", set.ranker == nil ? nil : "its ranker"].compactMap { $0 }
            print(String(format: "model loaded (%.1f s)%@", Date().timeIntervalSince(t), beside.isEmpty ? "" : " with " + beside.joined(separator: " and ")))
        }
        t = Date()
        var config = BlendConfig()
        config.logic = logic
        config.expansion = expansion.limits
        config.pageRankPushes = pageRankPushes
        config.similar.edges = similarEdges
        let engine = EngineBuilder(blend: config, scorerThreads: threads).build(loaded, models: set)
        if what == .follow || what == .feed { try engine.check(logic: logic) }
        let rec = engine.follow
        let scorer = rec.scorer
        print(String(format: "leaderboards and recommender built (%.1f s)", Date().timeIntervalSince(t)))
        var gen = SplitMix64(seed: seed)
        let active = (0..<Int32(s.userCount)).filter { s.followees.degree($0) > 0 && s.userFlags[Int($0)].isEmpty }
        let users = (0..<requests).map { _ in active[gen.below(active.count)] }
        var ms: [Double] = []
        ms.reserveCapacity(requests)
        switch what {
        case .train, .ingest, .rebuild:
            break  // handled before the snapshot is loaded
        case .follow:
            _ = rec.recommend(user: users[0], k: k, explain: explain)  // warm up
            var digest = AnswerDigest()
            for u in users {
                let start = DispatchTime.now().uptimeNanoseconds
                let answer = rec.recommend(user: u, k: k, explain: explain)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                precondition(!answer.items.isEmpty || s.userCount < 50)
                digest.answer(count: answer.items.count)
                for item in answer.items { digest.add(item.user, item.score) }
            }
            report("who to follow (logic \(logic.rawValue), k \(k))", ms)
            print("answers digest: \(digest)")
        case .feed:
            var digest = AnswerDigest()
            for u in users {
                let start = DispatchTime.now().uptimeNanoseconds
                let feed = engine.feed(user: u, k: k, posts: posts)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                precondition(feed.count <= k)
                digest.answer(count: feed.count)
                for item in feed {
                    switch item {
                    case .post(let p): digest.add(-1 - p.post, p.score)
                    case .user(let r): digest.add(r.user, r.score)
                    }
                }
            }
            report("mixed feed (\(posts) posts then users, k \(k), logic \(logic.rawValue))", ms)
            print("answers digest: \(digest)")
        case .similar:
            let followed = (0..<Int32(s.userCount)).filter { s.followers.degree($0) > 0 && s.userFlags[Int($0)].isEmpty }
            let anchors = (0..<requests).map { _ in followed[gen.below(followed.count)] }
            var found = 0
            _ = rec.similarAccounts(to: anchors[0], k: k)  // warm up
            for a in anchors {
                let start = DispatchTime.now().uptimeNanoseconds
                let list = rec.similarAccounts(to: a, k: k)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                found += list.count
            }
            let degrees = anchors.map { s.followers.degree($0) }.sorted()
            print(String(format: "anchors: followers p50 %d, p99 %d, max %d; %.1f similar accounts found per anchor on average",
                         degrees[degrees.count / 2], degrees[degrees.count * 99 / 100], degrees.last ?? 0, Double(found) / Double(anchors.count)))
            let how = scorer == nil ? ", follower overlap only" : ", reordered by the model's embeddings"
            report("similar accounts (k \(k)\(how))", ms)
            // The hubs: the work is bounded by the sample of followers, not by the degree.
            let hubs = rec.leaderboards.mostFollowed.prefix(100).map(\.user)
            var hubMS: [Double] = []
            for a in hubs {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = rec.similarAccounts(to: a, k: k)
                hubMS.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            print("hub anchors: the \(hubs.count) most followed accounts, \(s.followers.degree(hubs.last ?? 0))–\(s.followers.degree(hubs.first ?? 0)) followers")
            report("similar accounts of the hubs (k \(k)\(how))", hubMS)
        case .relations:
            guard let scorer else { throw ValidationError("relations needs --model") }
            var t0 = Date()
            let index = try RelationIndex(graph: s.followees, scorer: scorer, efConstruction: efConstruction)
            print(String(format: "relation vectors (d=%d) of %d follows computed and indexed in %.1f s (HNSW M=16, efConstruction %d, %d MiB)",
                         scorer.relationDimension, s.followees.edgeCount, Date().timeIntervalSince(t0), efConstruction,
                         index.index.storageBytes >> 20))
            let queries = (0..<min(requests, 2_000)).map { _ in Int32(gen.below(s.followees.edgeCount)) }
            t0 = Date()
            let exact = queries.map { index.index.exactSearch(index.index.vector($0), k: 10).map(\.id) }
            let exactQPS = Double(queries.count) / Date().timeIntervalSince(t0)
            print(String(format: "exact search: %.0f queries/s (1 thread)", exactQPS))
            for ef in [16, 32, 64, 128, 256] {
                t0 = Date()
                let approx = queries.map { index.index.search(index.index.vector($0), k: 10, ef: ef).map(\.id) }
                let qps = Double(queries.count) / Date().timeIntervalSince(t0)
                var hits = 0
                for (a, e) in zip(approx, exact) { hits += Set(a).intersection(e).count }
                print(String(format: "ef %3d: recall@10 %.4f, %.0f queries/s (1 thread), %.0fx exact", ef,
                             Double(hits) / Double(10 * queries.count), qps, qps / exactQPS))
            }
        case .score:
            guard let scorer else { throw ValidationError("score needs --model") }
            let candidates = (0..<Int32(scorer.knownUsers)).map { $0 }
            for u in users.prefix(max(1, min(requests, 200))) {
                let start = DispatchTime.now().uptimeNanoseconds
                let sc = scorer.scores(user: u, candidates: candidates)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                precondition(sc.count == candidates.count)
            }
            report("scoring all \(candidates.count) users for one user (threads \(threads == 0 ? "all" : String(threads)))", ms)
            let mean = ms.reduce(0, +) / Double(ms.count)
            print(String(format: "  %.1f M candidates/s", Double(candidates.count) / mean / 1e3))
        }
    }

    /// The follow model named by --model, with what is beside it; none without --model.
    func loadModels() throws -> ModelSet {
        try model.map { path -> ModelSet in
            guard let m = try ModelFiles(followModel: path, clickModel: "").loadFollow() else { throw EngineError.unreadableFile(path: path, cause: "no such file") }
            return m
        } ?? ModelSet()
    }

    func runTrain() throws {
        let dims = shape.split(separator: ",").compactMap { Int($0) }
        guard dims.count == 3, dims.allSatisfy({ $0 > 0 }) else { throw ValidationError("--shape is USERS,ITEMS,POSITIVES") }
        let (nu, ni, np) = (dims[0], dims[1], dims[2])
        var t = Date()
        // Zipf-like popularity by inverse-CDF sampling over ranks, ids shuffled; unique pairs.
        var gen = SplitMix64(seed: seed)
        func zipfTable(_ n: Int, _ s: Double) -> [Double] {
            var c = [Double](repeating: 0, count: n)
            var acc = 0.0
            for r in 0..<n { acc += 1 / pow(Double(r + 1), s); c[r] = acc }
            return c.map { $0 / acc }
        }
        let cu = zipfTable(nu, 0.5), ci = zipfTable(ni, 1.0)
        var permU = Array(0..<Int32(nu)), permI = Array(0..<Int32(ni))
        permU.shuffle(using: &gen)
        permI.shuffle(using: &gen)
        func draw(_ c: [Double]) -> Int {
            let x = Double(gen.next() >> 11) * 0x1.0p-53
            var lo = 0, hi = c.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if c[mid] < x { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        var seen = Set<Int64>()
        seen.reserveCapacity(np)
        var users: [Int32] = [], items: [Int32] = []
        users.reserveCapacity(np)
        items.reserveCapacity(np)
        while users.count < np {
            let u = permU[draw(cu)], i = permI[draw(ci)]
            if seen.insert(Int64(u) << 32 | Int64(i)).inserted { users.append(u); items.append(i) }
        }
        seen = []
        let exclusion = try ItemSets(userCount: nu, users: users, items: items)
        print(String(format: "synthetic %d users x %d items, %d positives (%.1f s to generate)", nu, ni, np, Date().timeIntervalSince(t)))
        var o = TrainingOptions()
        o.epochs = epochs
        o.threads = threads
        o.shuffleInstances = !grouped
        let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [64, 32, 16, 8], userCount: nu, itemCount: ni)
        t = Date()
        let model = try NeuMFModel(configuration: config)
        print("model: \(config), \(model.parameterCount) parameters")
        _ = try NeuMFTrainer.train(model, data: TrainingData(users: users, items: items, exclusion: exclusion), options: o) { r in
            print(String(format: "epoch %d: %.1f s, %.0f samples/s, loss %.4f", r.epoch + 1, r.trainSeconds, r.samplesPerSecond, r.loss))
        }
    }

    func runIngest() async throws {
        guard batch >= 1, requests >= 1 else { throw ValidationError("--batch and --requests must be positive") }
        let loaded = try await storeOptions.location.loadSnapshot()
        let users = loaded.catalog.users
        guard users.count > 0 else { throw ValidationError("the store has no users to follow") }
        let opened = try await storeOptions.location.open(create: false, durability: durability)
        let run = UInt64.random(in: 0...UInt64.max) % 1_000_000_000
        var gen = SplitMix64(seed: seed)
        var ms: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        try await opened.using { store in
            for r in 0..<requests {
                let follower = "ingest-\(run)-\(r)"
                let events = (0..<batch).map { _ in
                    Event.follow(follower: follower, followee: users.externalID(of: Int32(gen.below(users.count))), at: 1_700_000_000)
                }
                let t = DispatchTime.now().uptimeNanoseconds
                try await store.append(events)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        report("ingest (\(storeOptions.location.isPostgres ? "PostgreSQL" : "SQLite durability \(durability.rawValue)"), batches of \(batch) follows)", ms)
        print(String(format: "  %.0f batches/s, %.0f follows/s", Double(requests) / seconds, Double(requests * batch) / seconds))
    }

    func runRebuild() async throws {
        guard requests >= 1, rounds >= 1 else { throw ValidationError("--requests and --rounds must be positive") }
        var t = Date()
        let (columns, catalog) = try await storeOptions.location.loadColumns()
        print(String(format: "columns read: %d users, %d follows, %d posts, %d interactions (%.1f s)", columns.userCount,
                     columns.followFollower.count, columns.postAuthor.count, columns.interactionUser.count, Date().timeIntervalSince(t)))
        guard columns.userCount > 1, !columns.postAuthor.isEmpty else { throw ValidationError("rebuild needs a store with users and posts") }
        t = Date()
        var snapshot = Snapshot.build(columns)
        print(String(format: "snapshot built from every row (a full rebuild's build): %.2f s", Date().timeIntervalSince(t)))
        let set = try loadModels()
        var config = BlendConfig()
        config.expansion = expansion.limits
        let builder = EngineBuilder(blend: config, scorerThreads: 1)
        var gen = SplitMix64(seed: seed)
        let now = columns.followCreatedAt.max() ?? 1_700_000_000
        for round in 1...rounds {
            // The soak's mix, with versions after the snapshot's own, as the change log would give them.
            var changes: [Change] = []
            changes.reserveCapacity(requests)
            for i in 0..<requests {
                let a = Int32(gen.below(snapshot.userCount)), b = Int32(gen.below(snapshot.userCount))
                let v = snapshot.version + Int64(i) + 1, time = now + Int64(i)
                let op: Change.Operation, other: Int32, detail: UInt8
                switch i % 10 {
                case 0..<5: (op, other, detail) = (snapshot.follows(a, b) ? .unfollow : .follow, b, 0)
                case 5..<8: (op, other, detail) = (.interaction, Int32(gen.below(snapshot.postCount)), Interaction.Kind.like.rawValue)
                case 8: (op, other, detail) = (snapshot.hasBlocked(a, b) ? .unblock : .block, b, 0)
                default: (op, other, detail) = (snapshot.hasDismissed(a, b) ? .undismiss : .dismiss, b, 0)
                }
                changes.append(Change(version: v, operation: op, a: a, b: other, detail: detail, timestamp: time))
            }
            t = Date()
            guard let next = SnapshotDelta(changes: changes, after: snapshot).flatMap({ snapshot.applying($0) }) else {
                throw ValidationError("the synthetic changes could not be replayed")
            }
            let patchSeconds = Date().timeIntervalSince(t)
            snapshot = next
            t = Date()
            let engine = builder.build(LoadedSnapshot(snapshot: snapshot, catalog: catalog), models: set)
            let engineSeconds = Date().timeIntervalSince(t)
            print(String(format: "round %d: %d changes folded into the snapshot in %.2f s, engine built in %.2f s: %.2f s in all (%d follows)",
                         round, requests, patchSeconds, engineSeconds, patchSeconds + engineSeconds, engine.snapshot.followees.edgeCount))
        }
    }

    /// FNV-1a (the model files' `FNV64`) over every answer's length, ids and scores, in order: two
    /// builds that print the same digest for the same store, model and seed gave the same answers,
    /// so a speed-up can be checked to change none.
    struct AnswerDigest: CustomStringConvertible {
        private var hash = FNV64()
        /// Starts an answer of `count` items.
        mutating func answer(count: Int) { hash.update(word: UInt64(truncatingIfNeeded: count)) }
        /// One item of the answer: a user (or, negated, a post) and its score.
        mutating func add(_ id: Int32, _ score: Float) {
            hash.update(word: UInt64(UInt32(bitPattern: id)) << 32 | UInt64(score.bitPattern))
        }
        var description: String { String(hash.value, radix: 16) }
    }

    func report(_ title: String, _ ms: [Double]) {
        let v = ms.sorted()
        func p(_ q: Double) -> Double { v[min(v.count - 1, Int(q * Double(v.count)))] }
        print(String(format: "%@: %d requests, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, mean %.2f ms",
                     title, v.count, p(0.5), p(0.9), p(0.99), v.last ?? 0, v.reduce(0, +) / Double(max(1, v.count))))
    }
}
