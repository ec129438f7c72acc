import ArgumentParser
import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
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
        let sources = paths.map { ImportSource(path: $0, format: ImportFormat.detect(reading: $0)!) }
        let summary = try await store.importFiles(sources, options: ImportOptions()) { _ in }
        print(String(format: "2. imported into %@/orbit.sqlite (%.1f s): ", folder, Date().timeIntervalSince(t)) + summary.description)

        t = Date()
        let loaded = try await store.loadSnapshot()
        print(String(format: "3. loaded the snapshot (%.2f s):", Date().timeIntervalSince(t)))
        print(SnapshotSummary(loaded.snapshot).description.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

        let s = loaded.snapshot
        let view = LiveView(snapshot: s)

        // A small NeuMF model of the follow graph (a plan sized for a demo, not the defaults, which take
        // minutes), selected on each user's latest follow, with the relation index of the complex logic.
        t = Date()
        var plan = TrainingPlan()
        plan.follow.factors = 8
        plan.follow.layers = [32, 16, 8]
        plan.follow.epochs = 8
        plan.follow.validationUsers = 1_000
        plan.follow.refit = false
        let files = ModelFiles(followModel: folder + "/follow.model", clickModel: folder + "/click.json")
        var models = try Retraining(plan: plan, files: files).trainFollow(s) { progress.message("   " + $0) }
        progress.finish()
        let st = models.followStatus!
        print(String(format: "4. trained NeuMF (f=8, [32,16,8]) on the follow graph in %.1f s: validation HR@10 %.3f NDCG@10 %.3f "
            + "(%d users' latest follow, ranked among 99 users they do not follow); model in %@/follow.model%@",
            st.trainSeconds ?? 0, st.validationHR10 ?? 0, st.validationNDCG10 ?? 0, plan.follow.validationUsers, folder,
            models.relations == nil ? "" : ", relation index beside it"))
        let (columns, _) = try await store.loadColumns()
        if let (click, clickStatus, n, clicked) = try Retraining(plan: plan, files: files).fitClick(columns, follow: models.follow) {
            models.click = click
            models.clickStatus = clickStatus
            print("   click model fitted on \(n) impressions (\(clicked) clicked); in \(folder)/click.json")
        }
        let engine = EngineBuilder().build(loaded, models: models)
        let users = (0..<Int32(s.userCount)).filter { s.userFlags[Int($0)].isEmpty }
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
            let answer = try engine.recommendFollows(user: u, k: 10, view: LiveView(snapshot: s, overlay: overlay))
            print(Recommend.render(answer, catalog: catalog, explain: false, indent: "     "))
        }
        print("6. the mixed feed of @\(catalog.users.externalID(of: engaged)) (k = 10: up to 5 posts, then users to follow):")
        print(Feed.render(engine.feed(user: engaged, k: 10, posts: 5), catalog: catalog, indent: "     "))
        if dir == nil { try? FileManager.default.removeItem(atPath: folder) }
    }
}
