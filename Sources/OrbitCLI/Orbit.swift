import ArgumentParser
import OrbitRecommend

@main
struct Orbit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orbit",
        abstract: "Orbit: who to follow and which posts to read, for a social platform.",
        discussion: """
            Data lives in an embedded SQLite store (--store, default ./orbit-data/orbit.sqlite).
            Start with `orbit demo`, which needs no input.
            """,
        subcommands: [
            Demo.self, Generate.self, Import.self, Stats.self, Train.self, Evaluate.self, Recommend.self, Feed.self, Serve.self, Bench.self,
        ])
}

/// The graph-expansion bound, for the commands that build who-to-follow lists.
struct ExpansionOptions: ParsableArguments {
    @Option(help: "Edges read per graph-expansion step at most (latency against reach).")
    var expansionEdges: Int = ExpansionLimits().edgesPerStep

    func validate() throws {
        guard expansionEdges > 0 else { throw ValidationError("--expansion-edges must be positive (it bounds the edges read per expansion step)") }
    }

    var limits: ExpansionLimits {
        var l = ExpansionLimits()
        l.edgesPerStep = expansionEdges
        return l
    }
}

/// Options shared by commands that open the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the embedded SQLite store (created if missing); import, stats and serve also take a postgres:// URL.")
    var store: String = "orbit-data/orbit.sqlite"
}
