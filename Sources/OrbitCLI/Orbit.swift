import ArgumentParser

@main
struct Orbit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orbit",
        abstract: "Orbit: who to follow and which posts to read, for a social platform.",
        discussion: """
            Data lives in an embedded SQLite store (--store, default ./orbit-data/orbit.sqlite) or in PostgreSQL
            (--store postgres://user@host/db); every command takes either. Start with `orbit demo`, which needs no input.
            """,
        subcommands: [
            Demo.self, Generate.self, Import.self, Stats.self, Train.self, Evaluate.self, Recommend.self, Feed.self, Dismiss.self, Serve.self, Bench.self,
        ])
}

