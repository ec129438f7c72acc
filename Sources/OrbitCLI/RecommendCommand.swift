import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitRecommend

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
    @Option(help: "Model logic: simple (score everyone), complex (relation vectors; needs the model's relation index), graph (bounded), none. Refused when there is nothing to run it on.")
    var logic: ModelLogic?
    @OptionGroup var models: ModelFileOptions

    func validate() throws {
        guard (1...500).contains(k) else { throw ValidationError("--k must be between 1 and 500") }
    }

    func run() async throws {
        let loaded = try await storeOptions.location.loadSnapshot()
        guard let u = loaded.catalog.users.index(of: user) else {
            throw EngineError.unknownUser(id: user, location: storeOptions.location.redacted)
        }
        let set = try models.load()
        if set.follow == nil && explain { print("(no model at \(models.model): model sources skipped)") }
        let engine = EngineBuilder().build(loaded, models: set)
        let start = Date()
        let answer = try engine.recommendFollows(user: u, k: k, logic: logic, explain: explain)
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
            if explain && !item.contributions.isEmpty {
                line += "\n\(indent)      ranker: " + item.contributions.map { String(format: "%@ %+.3f", $0.feature, $0.value) }.joined(separator: ", ")
            }
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

