import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
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
        let view = LiveView(snapshot: s)

        // A small NeuMF model of the follow graph, selected on each user's latest follow.
        t = Date()
        let data = try FollowModelData(graph: s, validationUsers: 1_000)
        var options = TrainingOptions()
        options.epochs = 8
        let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [32, 16, 8], userCount: s.userCount, itemCount: s.userCount)
        let result = try NeuMFTrainer.train(NeuMFModel(configuration: config), data: data.training, validation: data.validation,
                                            options: options) { r in
            progress.message(String(format: "   epoch %d: loss %.4f, validation HR@10 %.3f, %.0f samples/s", r.epoch + 1, r.loss,
                                    r.validationHitRate ?? 0, r.samplesPerSecond))
        }
        try result.model.save(to: folder + "/follow.model")
        print(String(format: "4. trained NeuMF (f=8, [32,16,8]) on %d follows in %.1f s: best epoch %d, validation HR@10 %.3f NDCG@10 %.3f "
            + "(%d users' latest follow, ranked among 99 users they do not follow); model in %@/follow.model",
            data.training.count, Date().timeIntervalSince(t), result.bestEpoch + 1, result.bestHitRate ?? 0, result.bestNDCG ?? 0,
            data.validation?.count ?? 0, folder))
        let users = (0..<Int32(s.userCount)).filter { s.userFlags[Int($0)].isEmpty }
        let rec = RecommenderFactory.followRecommender(for: loaded, model: result.model)
        // Three kinds of user: one with no behaviour (a newcomer joins now), one who engaged with
        // posts, and the best connected one.
        var overlay = Overlay(snapshot: s)
        let newcomer = Int32(s.userCount)
        overlay.addUser(newcomer)
        var catalog = loaded.catalog
        _ = catalog.users.intern("newcomer")
        let engaged = users.max { view.engagements(of: $0).filter { $0.signals.priorityKey > 0 }.count
            < view.engagements(of: $1).filter { $0.signals.priorityKey > 0 }.count }!
        let connected = users.max { s.followees.degree($0) + s.followers.degree($0) < s.followees.degree($1) + s.followers.degree($1) }!
        print("5. who to follow (k = 10):")
        for (title, u) in [("a newcomer with no behaviour", newcomer), ("@\(catalog.users.externalID(of: engaged)), who engaged with posts", engaged),
                           ("@\(catalog.users.externalID(of: connected)), the best connected user", connected)] {
            print("   for \(title):")
            let answer = rec.with(view: LiveView(snapshot: s, overlay: overlay)).recommend(user: u, k: 10)
            print(Recommend.render(answer, catalog: catalog, explain: false, indent: "     "))
        }
        if dir == nil { try? FileManager.default.removeItem(atPath: folder) }
    }
}
