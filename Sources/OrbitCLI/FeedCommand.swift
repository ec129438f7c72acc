import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitRecommend

struct Feed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The mixed feed for one user: posts from the browse pool, then users to follow filling the slots.",
        discussion: """
            The browse pool holds recent posts the user has not seen from followees, engaged authors and hot posts, with
            blocked, flagged and own posts removed. It is ranked by the click model (--click-model, JSON written by
            `orbit train clicks`) when the file exists, by the hot-post score otherwise, with no more
            than --max-run consecutive posts by one author. Users to follow fill the remaining slots.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "External id of the user.") var user: String
    @Option(help: "Slots in all (1…200).") var k: Int = 20
    @Option(help: "Posts at most.") var posts: Int = 10
    @Option(help: "Consecutive posts by one author at most.") var maxRun: Int = 2
    @OptionGroup var models: ModelFileOptions

    func validate() throws {
        guard (1...200).contains(k), posts >= 0, maxRun >= 1 else {
            throw ValidationError("--k must be 1…200, --posts ≥ 0 and --max-run ≥ 1")
        }
    }

    func run() async throws {
        let loaded = try await storeOptions.location.loadSnapshot()
        guard let u = loaded.catalog.users.index(of: user) else {
            throw EngineError.unknownUser(id: user, location: storeOptions.location.redacted)
        }
        var browse = BrowseConfig()
        browse.maxConsecutiveSameAuthor = maxRun
        let engine = EngineBuilder(browse: browse).build(loaded, models: try models.load())
        print(Self.render(engine.feed(user: u, k: k, posts: posts), catalog: loaded.catalog))
    }

    static func render(_ items: [FeedItem], catalog: Catalog, indent: String = "") -> String {
        let name = { (i: UserIndex) in catalog.users.externalID(of: i) }
        var lines: [String] = []
        for (i, item) in items.enumerated() {
            switch item {
            case .post(let p):
                lines.append(indent + String(format: "%2d. post %@ by @%@  %@  (score %.3g)", i + 1, catalog.posts.externalID(of: p.post),
                                             name(p.author), p.reason(name: name), p.score))
            case .user(let r):
                lines.append(indent + String(format: "%2d. follow @%@  [%@]  %@", i + 1, name(r.user), r.source.rawValue, r.reason(name: name)))
            }
        }
        if items.isEmpty { lines.append(indent + "(nothing to show)") }
        return lines.joined(separator: "\n")
    }
}
