import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import OrbitStore

struct Feed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The mixed feed for one user: posts from the browse pool, then users to follow filling the slots.",
        discussion: """
            The browse pool holds recent posts the user has not seen from followees, engaged authors and hot posts, with
            blocked, flagged and own posts removed. It is ranked by the click model (--click-model, JSON written by
            `orbit evaluate --task posts --save-click-model`) when given, by the hot-post score otherwise, with no more
            than --max-run consecutive posts by one author. Users to follow fill the remaining slots.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "External id of the user.") var user: String
    @Option(help: "Slots in all (1…200).") var k: Int = 20
    @Option(help: "Posts at most.") var posts: Int = 10
    @Option(help: "Consecutive posts by one author at most.") var maxRun: Int = 2
    @Option(help: "Trained follow model (used when the file exists).") var model: String = "orbit-data/follow.model"
    @Option(help: "Click model (JSON).") var clickModel: String?

    func validate() throws {
        guard (1...200).contains(k), posts >= 0, maxRun >= 1 else {
            throw ValidationError("--k must be 1…200, --posts ≥ 0 and --max-run ≥ 1")
        }
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: storeOptions.store) else {
            throw ValidationError("no store at \(storeOptions.store): import data first, or pass --store")
        }
        let loaded = try await SQLiteStore(path: storeOptions.store).loadSnapshot()
        guard let u = loaded.catalog.users.index(of: user) else { throw ValidationError("unknown user \"\(user)\"") }
        let trained = FileManager.default.fileExists(atPath: model) ? try NeuMFModel.load(from: model) : nil
        let follow = RecommenderFactory.followRecommender(for: loaded, model: trained)
        var config = BrowseConfig()
        config.maxConsecutiveSameAuthor = maxRun
        var scorer: (any PostScorer)?
        if let clickModel {
            let m = try ClickModel.load(from: clickModel)
            scorer = ClickModelScorer(model: m, affinity: follow.scorer, now: follow.now)
        }
        let postRec = PostRecommender(view: follow.view, hot: follow.leaderboards.hot, now: follow.now, config: config, scorer: scorer)
        let name = { (i: UserIndex) in loaded.catalog.users.externalID(of: i) }
        for (i, item) in mixedFeed(user: u, k: k, posts: posts, postRecommender: postRec, followRecommender: follow).enumerated() {
            switch item {
            case .post(let p):
                print(String(format: "%2d. post %@ by @%@  %@  (score %.3g)", i + 1, loaded.catalog.posts.externalID(of: p.post),
                             name(p.author), p.reason(name: name), p.score))
            case .user(let r):
                print(String(format: "%2d. follow @%@  [%@]  %@", i + 1, name(r.user), r.source.rawValue, r.reason(name: name)))
            }
        }
    }
}
