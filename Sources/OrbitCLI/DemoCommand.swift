import ArgumentParser
import Foundation
import OrbitCore
import OrbitStore
import OrbitSynth

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a small network into an embedded store, load it and show what Orbit sees. Needs no input.",
        discussion: "Uses a fresh temporary folder unless --dir is given; pass --dir to keep the store and the CSV files.")

    @Option(help: "Folder for the generated CSV files and the store (default: a new temporary folder).")
    var dir: String?
    @OptionGroup var synth: SynthOptions

    func run() async throws {
        let folder = dir ?? NSTemporaryDirectory() + "orbit-demo-\(ProcessInfo.processInfo.processIdentifier)"
        let progress = ProgressReporter()
        print("Orbit demo in \(folder)")

        var t = Date()
        let net = Generator(config: synth.config) { progress.update($0, $1) }.generate()
        progress.finish()
        let paths = try net.writeCSV(to: folder + "/generated")
        print(String(format: "1. generated %d users, %d follows, %d posts, %d interactions (%.1f s)",
                     net.userCount, net.follows.count, net.posts.count, net.interactions.count, Date().timeIntervalSince(t)))

        t = Date()
        let store = try SQLiteStore(path: folder + "/orbit.sqlite")
        let sources = paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }
        let summary = try await store.importFiles(sources, options: ImportOptions()) { _ in }
        print(String(format: "2. imported into %@/orbit.sqlite (%.1f s): ", folder, Date().timeIntervalSince(t)) + summary.description)

        t = Date()
        let loaded = try await store.loadSnapshot()
        print(String(format: "3. loaded the snapshot (%.2f s):", Date().timeIntervalSince(t)))
        print(SnapshotSummary(loaded.snapshot).description.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

        let s = loaded.snapshot
        let names = loaded.catalog.users
        let busiest = (0..<Int32(s.userCount)).max { s.followers.degree($0) < s.followers.degree($1) }!
        let engaged = (0..<Int32(s.userCount)).max { s.engagements(of: $0).count < s.engagements(of: $1).count }!
        print("4. a look inside:")
        print("   most followed: @\(names.externalID(of: busiest)) with \(s.followers.degree(busiest)) followers")
        print("   @\(names.externalID(of: engaged)) follows \(s.followees.degree(engaged)) users and engaged with "
            + "\(s.engagements(of: engaged).count) authors; strongest signals first:")
        let top = s.engagements(of: engaged).sorted {
            ($0.signals.priorityKey, $0.count, $0.lastTime) > ($1.signals.priorityKey, $1.count, $1.lastTime)
        }
        for e in top.prefix(5) {
            print("     @\(names.externalID(of: e.author))  signals \(e.signals)  \(e.count) interactions")
        }
        if dir == nil { try? FileManager.default.removeItem(atPath: folder) }
    }
}
