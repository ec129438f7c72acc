import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import OrbitSynth
import Testing
@testable import OrbitEval
import TestThreads

@Suite(.testThreads) struct ProtocolStudyTests {
    @Test func higgsActivityMapsKindsAndNamesTheBadLine() throws {
        let p = try HiggsActivity.parse("10 20 100 RT\n20 30 101 RE\n\n10 30 102 MT\n", path: "a.txt")
        #expect(p.userCount == 3 && p.events.count == 3)
        #expect(p.events.map(\.kind) == [.repost, .comment, .authorClick])
        #expect(p.events[0].user == 0 && p.events[0].author == 1 && p.events[2].author == 2 && p.events[2].time == 102)
        #expect {
            try HiggsActivity.parse("1 2 3 RT\n1 2 x RT\n", path: "a.txt")
        } throws: { "\($0)".hasPrefix("a.txt:2:") }
        #expect {
            try HiggsActivity.parse("1 2 3 LIKE\n", path: "b.txt")
        } throws: { "\($0)".contains("b.txt:1:") && "\($0)".contains("LIKE") }
    }

    @Test func theClickStudyComparesThreeMethodsOnLaterImpressions() throws {
        var cfg = SynthConfig()
        cfg.users = 300
        cfg.seed = 6
        let columns = Generator(config: cfg).generate().columns()
        var trained = 0
        let r = ClickModelStudy.run(columns) { _ in
            trained += 1
            return nil
        }
        #expect(trained == 2)  // one follow model as of 60%, one as of 80% of the time
        #expect(r.rows.map(\.method) == ["click model", "hot posts", "latest from followees"])
        #expect(r.trainImpressions > 0 && r.testImpressions > 0 && r.testClicked > 0)
        for row in r.rows { #expect((0...1).contains(row.auc) && (0...1).contains(row.hitRate10)) }
        #expect(r.markdown.contains("| click model |"))
    }

    @Test func theFoldInStudyHoldsOneFollowOutOfEveryModel() throws {
        var cfg = SynthConfig()
        cfg.users = 200
        cfg.seed = 3
        let s = Snapshot.build(Generator(config: cfg).generate().columns())
        var graphs: [(FoldInStudy.Variant, Int)] = []
        let r = try FoldInStudy.run(s, users: 10, seed: 1) { g, variant, heldOut in
            graphs.append((variant, g.followees.edgeCount))
            // No held-out follow is in the graph a model is trained on.
            for (u, v) in heldOut { #expect(!g.follows(u, v)) }
            return try NeuMFModel(configuration: NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: s.userCount,
                                                                   itemCount: s.userCount), seed: 1)
        }
        #expect(r.users == 10 && graphs.count == 2)
        #expect(graphs[0].0 == .retrained && graphs[1].0 == .withoutNewUsers && graphs[1].1 < graphs[0].1)
        #expect((0...1).contains(r.top20Overlap) && (0...1).contains(r.foldedInHR10))
    }
}
