import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import OrbitStore

extension ModelLogic: ExpressibleByArgument {}

struct Recommend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recommend users to follow for one user, with sources and reasons.",
        discussion: """
            The list is filled in SPEC order: leaderboards for a user with no behaviour; otherwise authors the user
            engaged with (by the signal key A·8 + C·4 + R·2 + L), then the model (--logic), then followees of followees,
            co-followers' followees and popular users. Blocked, blacklisted, reported, inactive and already followed
            users never appear.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "External id of the user to recommend for.") var user: String
    @Option(help: "Number of users to recommend (1…500).") var k: Int = 20
    @Flag(help: "Also print the score and what each filter removed.") var explain = false
    @Option(help: "Model logic: simple (score everyone), complex (relation vectors), graph (bounded), none.")
    var logic: ModelLogic?
    @Option(help: "Trained follow model (orbit train); used when the file exists.") var model: String = "orbit-data/follow.model"

    func validate() throws {
        guard (1...500).contains(k) else { throw ValidationError("--k must be between 1 and 500") }
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: storeOptions.store) else {
            throw ValidationError("no store at \(storeOptions.store): import data first, or pass --store")
        }
        let store = try SQLiteStore(path: storeOptions.store)
        let loaded = try await store.loadSnapshot()
        guard let u = loaded.catalog.users.index(of: user) else {
            throw ValidationError("unknown user \"\(user)\": no such id in \(storeOptions.store)")
        }
        let trained = FileManager.default.fileExists(atPath: model) ? try NeuMFModel.load(from: model) : nil
        if trained == nil && explain { print("(no model at \(model): model sources skipped)") }
        let rec = RecommenderFactory.followRecommender(for: loaded, model: trained)
        let start = Date()
        let answer = rec.recommend(user: u, k: k, logic: logic)
        let ms = Date().timeIntervalSince(start) * 1000
        print(Self.render(answer, catalog: loaded.catalog, explain: explain))
        if explain { print(String(format: "answered in %.2f ms", ms)) }
    }

    static func render(_ answer: FollowAnswer, catalog: Catalog, explain: Bool, indent: String = "") -> String {
        let name = { (u: UserIndex) in catalog.users.externalID(of: u) }
        var lines: [String] = []
        for (i, item) in answer.items.enumerated() {
            var line = "\(indent)\(String(format: "%2d", i + 1)). @\(name(item.user))  [\(item.source)]  \(item.reason(name: name))"
            if explain { line += String(format: "  (score %.4g)", item.score) }
            lines.append(line)
        }
        if answer.items.isEmpty { lines.append("\(indent)(nothing to recommend)") }
        if explain {
            let f = FilterReason.allCases.compactMap { r in answer.filtered[r] > 0 ? "\(r.rawValue) \(answer.filtered[r])" : nil }
            lines.append("\(indent)filtered: " + (f.isEmpty ? "none" : f.joined(separator: ", ")))
            lines.append("\(indent)cold start: \(answer.coldStart)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Builds the recommenders the CLI commands share from a loaded snapshot.
enum RecommenderFactory {
    static func followRecommender(for loaded: LoadedSnapshot, model: NeuMFModel? = nil) -> FollowRecommender {
        let s = loaded.snapshot
        let now = Leaderboards.latestEvent(in: s)
        // A model trained on fewer users (an older snapshot) still serves the users it knows.
        let scorer = model.map { NeuMFPairScorer(model: $0) }
        return FollowRecommender(
            view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now, scorer: scorer)
    }
}
