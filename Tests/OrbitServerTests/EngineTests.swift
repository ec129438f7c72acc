import Foundation
import OrbitEngine
import OrbitRecommend
import OrbitServer
import Testing
import TestThreads

/// The CLI and the server run one engine: the same plan trains the same model, and the complex
/// logic works wherever it is offered (or is refused, never silently replaced).
@Suite(.testThreads) struct EngineTests {
    /// A small, deterministic plan (one thread): what makes two trainings comparable byte for byte.
    static var plan: TrainingPlan {
        var p = TrainingPlan()
        p.follow.factors = 4
        p.follow.layers = [8, 4]
        p.follow.epochs = 3
        p.follow.validationUsers = 60
        p.threads = 1
        p.seed = 9
        p.relationIndex.build = .always
        p.ranker.refit = false  // covered by aRankerThatPassesTheCheckIsRefittedWithTheCheckSlice; spares the suite's CPU
        return p
    }

    @Test func cliTrainingAndServerRetrainingWriteByteIdenticalModelFilesForOnePlanAndSeed() async throws {
        let plan = Self.plan
        let f = try await ServerFixture.make(users: 250, seed: 31) { c in
            c.training = plan
            c.retrainIn = .server  // in the server's own thread; the child process has its test below
        }
        defer { f.remove() }
        let planPath = f.dir + "/plan.json"
        try JSONEncoder().encode(plan).write(to: URL(fileURLWithPath: planPath))
        let serverModel = f.service.configuration.followModel
        let report = try await f.service.refresh(retrain: true)
        #expect(report.retrained && report.followModel?.origin == "trained" && report.relationIndex != nil)

        try await OrbitCommand.succeed(["train", "--store", f.dir + "/s.sqlite", "--plan", planPath, "--out", f.dir + "/cli/follow.model"], in: f.dir)
        let cli = try Data(contentsOf: URL(fileURLWithPath: f.dir + "/cli/follow.model"))
        let server = try Data(contentsOf: URL(fileURLWithPath: serverModel))
        #expect(cli.count > 1_000)
        #expect(cli == server, "the CLI's model (\(cli.count) bytes) differs from the server's (\(server.count) bytes)")
        // The relation index beside each model is built from it: the same edges file.
        let cliEdges = try Data(contentsOf: URL(fileURLWithPath: RelationIndexFile.edgesPath(model: f.dir + "/cli/follow.model")))
        let serverEdges = try Data(contentsOf: URL(fileURLWithPath: RelationIndexFile.edgesPath(model: serverModel)))
        #expect(cliEdges == serverEdges)

        // A different seed trains a different model: the comparison above can fail.
        try await OrbitCommand.succeed(["train", "--store", f.dir + "/s.sqlite", "--plan", planPath, "--seed", "10", "--out", f.dir + "/other.model"], in: f.dir)
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.dir + "/other.model")) != server)
    }

    @Test func complexLogicOverHTTPReturnsComplexCandidatesAndIsRefusedWithoutAnIndex() async throws {
        let f = try await ServerFixture.make(users: 300, seed: 12) { c in c.training = Self.plan }
        defer { f.remove() }
        try await f.withServer { c in
            // No model yet: every model logic is refused with 409, naming the reason; none is fine.
            let none = try await c.get("/v1/users/u1/follow-recommendations?logic=complex")
            #expect(none.status == 409 && none.errorWhere == "logic" && (none.error["message"] as? String ?? "").contains("no follow model"))
            #expect(try await c.get("/v1/users/u1/follow-recommendations?logic=none").status == 200)
        }
        try await f.service.refresh(retrain: true)
        try await f.withServer { c in
            var complexItems = 0, users = 0
            for i in 0..<300 where users < 20 {
                let r = try await c.get("/v1/users/u\(i)/follow-recommendations?k=20&logic=complex")
                guard r.status == 200 else {
                    Issue.record("u\(i): \(r.status) \(r.text.prefix(300))")
                    break
                }
                let n = r.items.filter { $0["source"] as? String == "neumf_complex" }.count
                if n > 0 { users += 1 }
                complexItems += n
            }
            #expect(users >= 10, "only \(users) users got neumf_complex items (\(complexItems) in all)")
            let model = try await c.get("/v1/model")
            #expect(model.status == 200)
        }

        // A model without an index (the plan says never): complex is refused, the others serve.
        var plan = Self.plan
        plan.relationIndex.build = .never
        let g = try await ServerFixture.make(users: 300, seed: 12) { c in c.training = plan }
        defer { g.remove() }
        try await g.service.refresh(retrain: true)
        try await g.withServer { c in
            let r = try await c.get("/v1/users/u1/follow-recommendations?logic=complex")
            #expect(r.status == 409 && (r.error["message"] as? String ?? "").contains("relation index"), "\(r.text)")
            #expect(try await c.get("/v1/users/u1/follow-recommendations?logic=simple").status == 200)
        }
    }
}

/// The ranking stage as the server trains and serves it.
@Suite(.testThreads) struct RankerServingTests {
    @Test func retrainingFitsTheRankerAndExplainShowsItsFeatureContributions() async throws {
        var plan = EngineTests.plan
        plan.ranker.parameters.trees = 20
        plan.ranker.users = 200
        let f = try await ServerFixture.make(users: 300, seed: 14) { c in c.training = plan }
        defer { f.remove() }
        let report = try await f.service.refresh(retrain: true)
        let status = try #require(report.ranker, "retraining fitted no ranker")
        #expect(status.kind == "ranker_xgboost_lambdamart" && FileManager.default.fileExists(atPath: status.path))
        try await f.withRouter { c in
            var explained = 0
            for i in 0..<100 where explained < 5 {
                let r = try await c.get("/v1/users/u\(i)/follow-recommendations?k=10&explain=true")
                #expect(r.status == 200)
                for item in r.items {
                    guard let features = item["features"] as? [[String: Any]], !features.isEmpty else { continue }
                    #expect(features.allSatisfy { ($0["feature"] as? String).map { FollowFeatures.names.contains($0) } ?? false })
                    explained += 1
                    break
                }
            }
            #expect(explained >= 5, "only \(explained) answers carried ranker feature contributions")
            #expect(try await c.get("/v1/users/u1/follow-recommendations?k=10").items.allSatisfy { $0["features"] == nil })
            let model = try await c.get("/v1/model")
            #expect((model.object["ranker"] as? [String: Any])?["kind"] as? String == "ranker_xgboost_lambdamart")
        }
        // Contributions cost more than the ranking itself: the engine computes them only with explain.
        let models = try #require(try ModelFiles(followModel: f.service.configuration.followModel, clickModel: "").loadFollow())
        #expect(models.ranker != nil)
        let engine = EngineBuilder().build(try await f.store.loadSnapshot(), models: models)
        var ranked = 0
        for i in 0..<100 {
            let u = Int32(i)
            let quiet = try engine.recommendFollows(user: u, k: 10)
            let told = try engine.recommendFollows(user: u, k: 10, explain: true)
            #expect(quiet.items.map(\.user) == told.items.map(\.user))
            #expect(quiet.items.allSatisfy { $0.contributions.isEmpty })
            if told.items.contains(where: { !$0.contributions.isEmpty }) { ranked += 1 }
        }
        #expect(ranked >= 5, "only \(ranked) explained answers carried contributions")
        // A server starting on these files loads the ranker; one for another feature set is refused.
        let (ranker, _) = try RankerFile.read(from: status.path)
        #expect(ranker.model.featureNames.count > 10)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: status.path))
        bytes[bytes.count / 3] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: status.path))
        #expect(throws: EngineError.self) { try RankerFile.read(from: status.path) }
    }

    /// A ranker that passed the check is fitted again with the check slice's users (`ranker.refit`);
    /// with the refit off it keeps the rows it was checked with.
    @Test func aRankerThatPassesTheCheckIsRefittedWithTheCheckSlice() async throws {
        var plan = EngineTests.plan
        plan.ranker.parameters.trees = 20
        plan.ranker.users = 200
        plan.ranker.modelFeatures = false  // no second follow model: the refit is what is tested
        let f = try await ServerFixture.make(users: 300, seed: 14) { c in c.training = plan }
        defer { f.remove() }
        let snapshot = try await f.store.loadSnapshot().snapshot
        let followModel = f.service.configuration.followModel
        let base = plan
        func fitted(refit: Bool) async throws -> (status: ModelStatus, log: [String]) {
            var q = base
            q.ranker.refit = refit
            let p = q
            let (models, lines) = try await offThePool {
                var models = ModelSet()
                var lines: [String] = []
                try Retraining(plan: p, files: ModelFiles(followModel: followModel, clickModel: "")).trainRanker(snapshot, into: &models) { lines.append($0) }
                return (models, lines)
            }
            #expect(models.ranker != nil, "\(lines)")
            return (try #require(models.rankerStatus), lines)
        }
        let plain = try await fitted(refit: false), refitted = try await fitted(refit: true)
        #expect(plain.status.origin == "trained" && refitted.status.origin == "trained")
        #expect(!plain.log.contains { $0.hasPrefix("ranker refitted") })
        #expect(refitted.log.contains { $0.hasPrefix("ranker refitted with the check slice") }, "\(refitted.log)")
        #expect(refitted.status.users > plain.status.users, "refit \(refitted.status.users) users, plain \(plain.status.users)")
        // The check itself saw the same ranker both times.
        #expect(refitted.status.validationHR10 == plain.status.validationHR10)
    }
}
