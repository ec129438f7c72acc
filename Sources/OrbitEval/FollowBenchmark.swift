import Foundation
import OrbitCore
import OrbitRecommend

/// One way of producing a who-to-follow list, evaluated like every other.
public struct FollowMethod: Sendable {
    public var name: String
    public var run: @Sendable (UserIndex) -> [(user: UserIndex, source: SourceKind)]
}

/// What the offline follow evaluation compares: baselines, every source alone, and blends; all
/// built over one view of the graph (the training graph for validation, the graph without the
/// test follows for test).
public struct FollowMethods: Sendable {
    public let view: LiveView
    public let leaderboards: Leaderboards
    public let now: Timestamp
    public let scorer: (any PairScorer)?
    public let edgeIndex: (any EdgeIndex)?
    public let k: Int
    /// Bounds on the graph walks, for the expansion sources alone and for every blend.
    public let expansion: ExpansionLimits

    public init(
        graph: Snapshot, scorer: (any PairScorer)?, edgeIndex: (any EdgeIndex)?, k: Int = 20, expansion: ExpansionLimits = ExpansionLimits()
    ) {
        view = LiveView(snapshot: graph)
        now = Leaderboards.latestEvent(in: graph)
        leaderboards = Leaderboards(snapshot: graph, now: now)
        self.scorer = scorer
        self.edgeIndex = edgeIndex
        self.k = k
        self.expansion = expansion
    }

    func source(_ name: String, _ src: any CandidateSource) -> FollowMethod {
        let (view, now, k) = (self.view, self.now, self.k)
        return FollowMethod(name: name) { u in
            var f = FilterCounts()
            return src.candidates(for: FollowRequest(user: u, view: view, now: now), limit: k, filtered: &f).map { ($0.user, $0.source) }
        }
    }

    public var baselines: [FollowMethod] {
        Baseline.allCases.map { source("baseline: \($0.rawValue)", BaselineSource($0, leaderboards: leaderboards)) }
    }

    public var sources: [FollowMethod] {
        var out = [
            source("source: engaged_authors", EngagedAuthorsSource()),
            source("source: followees_of_followees", FolloweesOfFolloweesSource(limits: expansion)),
            source("source: co_followers", CoFollowersSource(limits: expansion)),
            source("source: follows_you", FollowsYouSource()),
            source("source: similar_to_recent_follows", SimilarToRecentFollowsSource(scorer: scorer)),
            source("source: network_recent_follows",
                   NetworkRecentFollowsSource(recent: RecentFollows(snapshot: view.snapshot, now: now, days: BlendConfig().networkRecentDays),
                                              limits: expansion)),
        ]
        if let scorer {
            out.append(source("source: neumf_simple", ModelSimpleSource(scorer: scorer, snapshot: view.snapshot)))
            out.append(source("source: neumf_graph", ModelGraphSource(scorer: scorer, leaderboards: leaderboards, limits: expansion)))
            if let edgeIndex {
                out.append(source("source: neumf_complex", ModelComplexSource(scorer: scorer, index: edgeIndex, limits: expansion)))
            }
        }
        return out
    }

    public func blend(_ name: String, _ config: BlendConfig) -> FollowMethod {
        let rec = FollowRecommender(
            view: view, leaderboards: leaderboards, now: now, config: config, scorer: scorer, edgeIndex: edgeIndex)
        let k = self.k
        return FollowMethod(name: "blend: \(name)") { u in rec.recommend(user: u, k: k).items.map { ($0.user, $0.source) } }
    }

    /// Blend configurations worth comparing on validation: the sequential order of SPEC §2 with
    /// each model logic, and reciprocal-rank fusions of the model and the graph sources.
    public func blendCandidates() -> [(String, BlendConfig)] {
        var out: [(String, BlendConfig)] = []
        let logics: [ModelLogic] = scorer == nil ? [.none] : (edgeIndex == nil ? [.graph, .simple, .none] : [.graph, .simple, .complex, .none])
        for logic in logics {
            var c = BlendConfig()
            c.expansion = expansion
            c.logic = logic
            out.append(("sequential, \(logic.rawValue)", c))
        }
        let modelWeights: [Double] = scorer == nil ? [0] : [0, 0.5, 1]
        for m in modelWeights {
            for fof in [0.0, 0.5] {
                for back in [0.0, 1, 3] {
                    var c = BlendConfig()
                    c.expansion = expansion
                    c.logic = m > 0 ? .graph : .none
                    c.fusion = FusionWeights(model: m, coFollowers: 1, followeesOfFollowees: fof, followsYou: back)
                    out.append(("fusion, model \(m) co-followers 1 fof \(fof) follows-you \(back)", c))
                }
                // The feedback issue's two sources, added to the fusions above that validated best.
                for back in [0.0, 3] {
                    for (similar, network) in [(1.0, 0.0), (0, 1), (1, 1)] {
                        var c = BlendConfig()
                        c.expansion = expansion
                        c.logic = m > 0 ? .graph : .none
                        c.fusion = FusionWeights(model: m, coFollowers: 1, followeesOfFollowees: fof, followsYou: back,
                                                 similarToRecent: similar, networkRecent: network)
                        out.append(("fusion, model \(m) co-followers 1 fof \(fof) follows-you \(back) similar \(similar) network-recent \(network)", c))
                    }
                }
            }
        }
        return out
    }
}

/// A row of the evaluation table.
public struct FollowResultRow: Sendable {
    public var method: String
    public var validation: FollowMetrics
    public var test: FollowMetrics?
}

/// Runs every method on validation, picks the best blend there, and reports every method on test.
public enum FollowBenchmark {
    public static func run(
        holdout: FollowHoldout, scorer: (any PairScorer)?, testScorer: (any PairScorer)? = nil,
        edgeIndex: (any EdgeIndex)?, expansion: ExpansionLimits = ExpansionLimits(), log: (String) -> Void = { _ in }
    ) -> (rows: [FollowResultRow], chosen: BlendConfig, chosenName: String) {
        let catalogue = holdout.train.userFlags.filter(\.isEmpty).count
        let val = FollowMethods(graph: holdout.train, scorer: scorer, edgeIndex: edgeIndex, expansion: expansion)
        let test = FollowMethods(graph: holdout.testInput, scorer: testScorer ?? scorer, edgeIndex: edgeIndex, expansion: expansion)
        var rows: [FollowResultRow] = []
        var bestBlend: (String, BlendConfig, Double, Double)?
        for (name, config) in val.blendCandidates() {
            let m = evaluateFollows(heldOut: holdout.validation, catalogueSize: catalogue, recommend: val.blend(name, config).run)
            log(String(format: "validation  blend %@: HR@10 %.4f NDCG@10 %.4f", name, m.hitRate10, m.ndcg10))
            if bestBlend == nil || (m.hitRate10, m.ndcg10) > (bestBlend!.2, bestBlend!.3) {
                bestBlend = (name, config, m.hitRate10, m.ndcg10)
            }
            rows.append(FollowResultRow(method: "blend: \(name)", validation: m, test: nil))
        }
        let (chosenName, chosen, _, _) = bestBlend!
        // Every blend is reported on test too (not only the chosen one), so the choice can be checked.
        for i in rows.indices {
            let name = String(rows[i].method.dropFirst("blend: ".count))
            let config = val.blendCandidates().first { $0.0 == name }!.1
            rows[i].test = evaluateFollows(heldOut: holdout.test, catalogueSize: catalogue, recommend: test.blend(name, config).run)
        }
        for (v, t) in zip(val.baselines + val.sources, test.baselines + test.sources) {
            let vm = evaluateFollows(heldOut: holdout.validation, catalogueSize: catalogue, recommend: v.run)
            let tm = evaluateFollows(heldOut: holdout.test, catalogueSize: catalogue, recommend: t.run)
            log(String(format: "%@: validation HR@10 %.4f, test HR@10 %.4f", v.name, vm.hitRate10, tm.hitRate10))
            rows.append(FollowResultRow(method: v.name, validation: vm, test: tm))
        }
        return (rows, chosen, chosenName)
    }

    /// The table as Markdown: one row per method, validation HR@10 then the test metrics.
    public static func markdown(_ rows: [FollowResultRow], chosen: String) -> String {
        var s = "| method | val HR@10 | test HR@10 | test Recall@20 | test NDCG@10 | coverage@10 | sources (share of top-20 slots) |\n"
        s += "|---|---|---|---|---|---|---|\n"
        for r in rows {
            guard let t = r.test else { continue }
            let mark = r.method == "blend: \(chosen)" ? " **(chosen on validation)**" : ""
            let shares = r.method.hasPrefix("blend") ? t.sourceShare.sorted { $0.value > $1.value }
                .map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ") : ""
            s += String(format: "| %@%@ | %.4f | %.4f | %.4f | %.4f | %.4f | %@ |\n",
                        r.method, mark, r.validation.hitRate10, t.hitRate10, t.recall20, t.ndcg10, t.coverage10, shares)
        }
        return s
    }
}
