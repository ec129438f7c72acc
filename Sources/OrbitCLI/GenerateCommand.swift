import ArgumentParser
import Foundation
import OrbitSynth

/// Generator options shared by `generate` and `demo`.
struct SynthOptions: ParsableArguments {
    @Option(help: "Number of users.") var users: Int = 2_000
    @Option(help: "Mean followees per user (heavy-tailed).") var meanFollows: Double = 11
    @Option(help: "Interest communities (0: about one per 2,000 users).") var communities: Int = 0
    @Option(help: "Mean posts per user.") var meanPosts: Double = 3
    @Option(help: "Mean post views per user; clicks, likes, reposts, comments and author clicks follow from views.")
    var meanViews: Double = 30
    @Option(help: "P(click | view) at base affinity.") var clickRate: Double = 0.03
    @Option(help: "Chance that a followed user follows back.") var reciprocity: Double = 0.15
    @Option(help: "Random seed: the same seed gives the same network.") var seed: UInt64 = 42

    var config: SynthConfig {
        var c = SynthConfig()
        c.users = users
        c.meanFollows = meanFollows
        c.communities = communities
        c.meanPosts = meanPosts
        c.meanViews = meanViews
        c.clickRate = clickRate
        c.reciprocity = reciprocity
        c.seed = seed
        return c
    }

    func validate() throws {
        guard users >= 2 else { throw ValidationError("--users must be at least 2") }
        guard meanFollows > 0, meanPosts >= 0, meanViews >= 0 else {
            throw ValidationError("--mean-follows must be positive; --mean-posts and --mean-views not negative")
        }
        guard (0...1).contains(clickRate), (0...1).contains(reciprocity) else {
            throw ValidationError("--click-rate and --reciprocity are probabilities in 0...1")
        }
    }
}

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a realistic synthetic social network as CSV files.",
        discussion: """
            Writes users.csv, follows.csv, blocks.csv, posts.csv and interactions.csv into --out.
            Import them in that order with `orbit import --store … DIR/*.csv` (the file names tell the format).
            The network has interest communities, heavy-tailed followers, reciprocity, posts, a view → click →
            like/repost/comment/author-click funnel, flagged users, blocks, and timestamps over one year.
            """)

    @OptionGroup var synth: SynthOptions
    @Option(help: "Directory to write the CSV files into.") var out: String = "orbit-data/generated"

    func run() async throws {
        let progress = ProgressReporter()
        let start = Date()
        let net = Generator(config: synth.config) { progress.update($0, $1) }.generate()
        progress.finish()
        let genSeconds = Date().timeIntervalSince(start)
        let paths = try net.writeCSV(to: out)
        print("generated \(net.userCount) users, \(net.follows.count) follows, \(net.posts.count) posts, "
            + "\(net.interactions.count) interactions, \(net.blocks.count) blocks in \(String(format: "%.1f", genSeconds)) s")
        print("wrote \(paths.joined(separator: " ")) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s in all)")
    }
}
