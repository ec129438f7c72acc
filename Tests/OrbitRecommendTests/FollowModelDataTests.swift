import NeuMF
import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

/// The follow model's negatives: training ones avoid only the training graph's follows, so
/// held-out followees stay eligible; validation ones avoid every follow the data is told about.
@Suite(.testThreads) struct FollowModelDataTests {
    /// 40 users in two communities of 20; inside a community a follows b when (a + b) % 3 != 0.
    /// Each of users 0..<10 has one follow held out as a test follow (given to the data as
    /// `heldOut`, absent from the graph).
    static func split() -> (graph: Snapshot, test: [(UserIndex, UserIndex)]) {
        var net = Net(users: 40)
        var test: [(UserIndex, UserIndex)] = []
        for a in Int32(0)..<40 {
            var first = true
            for b in Int32(0)..<40 where a != b && (a < 20) == (b < 20) && (a + b) % 3 != 0 {
                if a < 10 && first {
                    test.append((a, b))
                    first = false
                } else {
                    net.follows.append((a, b))
                }
            }
        }
        return (net.snapshot, test)
    }

    @Test func heldOutFollowsStayEligibleAsTrainingNegatives() throws {
        let (graph, test) = Self.split()
        let d = try FollowModelData(graph: graph, heldOut: test, validationUsers: 30, negatives: 10)
        let exclusion = d.training.exclusion
        #expect(exclusion.totalCount == d.training.count, "the exclusion is the training follows, nothing else")
        for (a, b) in test { #expect(!exclusion.contains(user: a, item: b)) }
        let v = try #require(d.validation)
        for c in 0..<v.count { #expect(!exclusion.contains(user: v.users[c], item: v.heldOut[c])) }
        // And they are drawn: the training sampler returns each test followee for its follower.
        let sampler = NegativeSampler(itemCount: d.userCount, exclusion: exclusion)
        var rng = SplitMix64(seed: 3)
        for (a, b) in test {
            let draws = sampler.sample(2_000, for: a, using: &rng)
            #expect(draws.contains(b), "user \(a) never drew its test followee \(b) as a training negative")
        }
        // The trainer accepts this data as it is.
        let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: d.userCount, itemCount: d.userCount)
        var o = TrainingOptions()
        o.epochs = 1
        o.threads = 1
        _ = try NeuMFTrainer.train(NeuMFModel(configuration: config, seed: 1), data: d.training, validation: d.validation, options: o)
    }

    @Test func validationNegativesAvoidEverySplit() throws {
        let (graph, test) = Self.split()
        let d = try FollowModelData(graph: graph, heldOut: test, validationUsers: 30, negatives: 10)
        let v = try #require(d.validation)
        #expect(v.count == 30 && v.negativesPerUser == 10)
        let testSet = Set(test.map { Int64($0.0) << 32 | Int64($0.1) })
        var validationSet = Set<Int64>()
        for c in 0..<v.count { validationSet.insert(Int64(v.users[c]) << 32 | Int64(v.heldOut[c])) }
        for c in 0..<v.count {
            let u = v.users[c]
            for n in v.negatives[(c * 10)..<((c + 1) * 10)] {
                let key = Int64(u) << 32 | Int64(n)
                #expect(!d.training.exclusion.contains(user: u, item: n), "user \(u): negative \(n) is a training follow")
                #expect(!validationSet.contains(key), "user \(u): negative \(n) is its validation follow")
                #expect(!testSet.contains(key), "user \(u): negative \(n) is a held-out test follow")
            }
        }
        // Refitting on train + validation moves the validation follows into the exclusion.
        let refit = d.training.adding(v)
        for c in 0..<v.count { #expect(refit.exclusion.contains(user: v.users[c], item: v.heldOut[c])) }
        for (a, b) in test { #expect(!refit.exclusion.contains(user: a, item: b)) }
    }
}
