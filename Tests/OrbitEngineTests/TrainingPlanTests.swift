import Foundation
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitRecommend
import OrbitSynth
import StoreTestSupport
import Testing
import TestThreads

@Suite(.testThreads) struct TrainingPlanTests {
    @Test func aPlanFileNamesOnlyWhatItChangesAndBadSettingsAreNamed() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/plan.json"
        try Data(#"{"follow": {"factors": 16, "grouped": false}, "seed": 5}"#.utf8).write(to: URL(fileURLWithPath: path))
        let p = try TrainingPlan.load(file: path)
        let d = TrainingPlan()
        #expect(p.follow.factors == 16 && !p.follow.grouped && p.seed == 5)
        #expect(p.follow.layers == d.follow.layers && p.follow.epochs == d.follow.epochs && p.relationIndex == d.relationIndex)
        // Encoding and decoding give the same plan back.
        #expect(try JSONDecoder().decode(TrainingPlan.self, from: JSONEncoder().encode(p)) == p)

        try Data(#"{"follow": {"layers": [63, 16]}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try TrainingPlan.load(file: path)
        } throws: { e in
            guard case EngineError.invalidPlan(let key, _) = e else { return false }
            return key == "follow.layers"
        }
        try Data(#"{"follow": {"factors": "many"}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: EngineError.self) { try TrainingPlan.load(file: path) }
        var bad = TrainingPlan()
        bad.click.split = 1.5
        #expect(throws: EngineError.self) { try bad.validate() }
    }

    @Test func relationIndexPlanBuildsByGraphSize() {
        var p = RelationIndexPlan()
        #expect(p.builds(edges: p.maxEdges) && !p.builds(edges: p.maxEdges + 1))
        p.build = .never
        #expect(!p.builds(edges: 1))
        p.build = .always
        #expect(p.builds(edges: 1 << 40))
    }
}

@Suite(.testThreads) struct RelationIndexFileTests {
    static func network() -> Snapshot {
        var cfg = SynthConfig()
        cfg.users = 200
        cfg.seed = 4
        return Snapshot.build(Generator(config: cfg).generate().columns())
    }

    static func model(_ s: Snapshot, seed: UInt64) throws -> NeuMFModel {
        try NeuMFModel(configuration: NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: s.userCount, itemCount: s.userCount),
                       seed: seed)
    }

    @Test func anIndexReadsBackForItsModelAndIsRefusedForAnotherOrWhenDamaged() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let s = Self.network()
        let m = try Self.model(s, seed: 1)
        let path = dir.path + "/m.model"
        try m.save(to: path)
        let index = try RelationIndex(graph: s.followees, scorer: NeuMFPairScorer(model: m), threads: 1)
        try RelationIndexFile.write(index, model: m, modelPath: path)
        let back = try RelationIndexFile.read(model: m, modelPath: path, ef: 32)
        #expect(back.graph == s.followees && back.index.count == s.followees.edgeCount)
        let e = s.followees.edgeCount / 2
        #expect(back.edge(e) == index.edge(e))
        #expect(back.nearestEdges(to: index.index.vector(Int32(e)), n: 5) == index.nearestEdges(to: index.index.vector(Int32(e)), n: 5))

        // Another model (a retraining replaced the file, the index stayed): refused, naming why.
        let other = try Self.model(s, seed: 2)
        #expect {
            try RelationIndexFile.read(model: other, modelPath: path, ef: 32)
        } throws: { e in "\(e)".contains("another model") }
        // One flipped byte: refused.
        let edges = RelationIndexFile.edgesPath(model: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: edges))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: edges))
        #expect {
            try RelationIndexFile.read(model: m, modelPath: path, ef: 32)
        } throws: { e in "\(e)".contains("damaged") }
        // ModelFiles reports the damaged index as an error, not as "no index".
        #expect(throws: EngineError.self) { try ModelFiles(followModel: path, clickModel: dir.path + "/c.json").loadFollow() }
    }

    @Test func theEngineRefusesLogicsItHasNothingFor() throws {
        let s = Self.network()
        let loaded = LoadedSnapshot(snapshot: s, catalog: Catalog())
        let bare = EngineBuilder().build(loaded)
        #expect(throws: EngineError.self) { try bare.check(logic: .simple) }
        #expect(throws: Never.self) { try bare.check(logic: ModelLogic.none) }
        let m = try Self.model(s, seed: 1)
        let withModel = EngineBuilder().build(loaded, models: ModelSet(follow: m))
        #expect(throws: Never.self) { try withModel.check(logic: .graph) }
        #expect {
            try withModel.check(logic: .complex)
        } throws: { e in "\(e)".contains("relation index") }
    }

    @Test func aMissingSQLiteStoreIsRefusedForReading() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        await #expect {
            try await StoreLocation(dir.path + "/none.sqlite").loadSnapshot()
        } throws: { e in
            guard case EngineError.noStore = e else { return false }
            return true
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/none.sqlite"))
        #expect(StoreLocation("postgres://u:secret@h/db").redacted == "postgres://u:***@h/db")
    }
}
