import ArgumentParser
import Foundation
import Logging
import OrbitEngine
import OrbitStore

extension ImportFormat: ExpressibleByArgument {}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import follows, users, blocks, posts and interactions into the store.",
        discussion: """
            Formats (guessed from the file name, or set with --format; .gz is read directly):
              follows       CSV with header uid,fid[,rank][,created_at] (the reference's follows.csv)
              edges         headerless `follower followee [created_at]`, spaces or tabs, # comments (SNAP)
              rating        NCF .rating: user<TAB>item<TAB>rating<TAB>timestamp, imported as user→item follows
              users         CSV id,created_at,flags (flags: inactive|blacklisted|reported) or JSON Lines
              blocks        CSV uid,blocked[,created_at]
              posts         CSV id,author,created_at or JSON Lines {"id","author","created_at"}
              interactions  CSV uid,post,kind,ts or JSON Lines; kind: view, click, like, repost, comment, author_click
            All files of one call are imported in one transaction: a bad row refuses the whole import
            (every bad row is listed as file:line: reason) unless --skip-bad-rows is given. Re-importing
            the same rows changes nothing. Self-follows are dropped and counted.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Format of every file (default: guessed from each name).") var format: ImportFormat?
    @Flag(help: "Read JSON Lines instead of CSV (default: guessed from .jsonl/.ndjson).") var jsonl = false
    @Flag(help: "Import the good rows and report how many bad ones were skipped and why.") var skipBadRows = false
    @Option(help: "Prefix for followee ids of .rating files, so items do not collide with users.")
    var followeePrefix: String = ""
    @Argument(help: "Files to import, in order (posts before the interactions that refer to them).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to import") }
    }

    func run() async throws {
        var sources: [ImportSource] = []
        for path in files {
            guard let f = format ?? ImportFormat.detect(reading: path) else { throw ImportError.unknownFormat(path: path) }
            sources.append(ImportSource(path: path, format: f, jsonLines: jsonl ? true : nil))
        }
        let opened = try await storeOptions.location.open(create: true, logger: Logger(label: "orbit.import"))
        let progress = ProgressReporter()
        let summary: ImportSummary
        do {
            summary = try await opened.using { store in
                try await store.importFiles(
                    sources, options: ImportOptions(skipBadRows: skipBadRows, followeePrefix: followeePrefix)
                ) { stage in progress.update(stage.hasPrefix("parse") ? "parse" : stage, Self.fraction(stage)) }
            }
        } catch let e as ImportError {
            progress.finish()
            FileHandle.standardError.write(Data((e.description + "\n").utf8))
            throw ExitCode(2)
        }
        progress.finish()
        if summary.report.badRowCount > 0 {
            for e in summary.report.badRows.prefix(20) { print("skipped \(e)") }
        }
        let follows = summary.followsAdded + summary.followsAlreadyPresent
        let rate = summary.seconds > 0 ? Double(follows) / summary.seconds : 0
        print("imported into \(storeOptions.location.redacted): \(summary)")
        print(String(format: "%.2f s (parse %.2f s, write %.2f s)", summary.seconds, summary.parseSeconds, summary.writeSeconds) + (follows > 0 ? String(format: ", %.0f follows/s", rate) : "")
            + ", store version \(summary.version)")
    }

    static func fraction(_ stage: String) -> Double {
        guard let last = stage.split(separator: " ").last, last.hasSuffix("%"), let v = Double(last.dropLast()) else { return 0 }
        return v / 100
    }
}
