import OrbitCore
import OrbitRecommend
import OrbitSynth
import Testing
@testable import OrbitEval
import TestThreads

@Suite(.testThreads) struct ImpressionStudyTests {
    @Test func discountingShowsMoreAccountsOverASessionAndNoneWithoutIt() {
        var cfg = SynthConfig()
        cfg.users = 600
        cfg.seed = 4
        let s = Snapshot.build(Generator(config: cfg).generate().columns())
        let holdout = FollowHoldout.byTime(s, cuts: .fractions(s, test: 0.1), seed: 1, maxUsers: 100)
        let off = ImpressionStudy.run(label: "off", graph: holdout.testInput, later: holdout.test, requests: 5, k: 10, discount: nil)
        let on = ImpressionStudy.run(label: "on", graph: holdout.testInput, later: holdout.test, requests: 5, k: 10, discount: ImpressionDiscount())
        #expect(off.users > 20 && off.users == on.users)
        // Without discounting every request repeats the first list.
        #expect(Set(off.hitRatePerRequest).count == 1)
        #expect(off.distinctShown <= 10)
        #expect(on.distinctShown > off.distinctShown + 5, "\(on) vs \(off)")
        #expect(on.sessionHitRate >= off.sessionHitRate)
        #expect(on.hitRatePerRequest.first == off.hitRatePerRequest.first)
    }
}
