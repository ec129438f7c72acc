import NeuMF
import OrbitCore
import OrbitRecommend

extension Snapshot {
    /// The time below which `fraction` of the follows were made (ties: the cut is the time itself,
    /// so every follow at it falls after the cut).
    public func followTimeQuantile(_ fraction: Double) -> Timestamp {
        guard !followedAt.isEmpty else { return 0 }
        let sorted = followedAt.sorted()
        return sorted[min(sorted.count - 1, max(0, Int(Double(sorted.count) * fraction)))]
    }
}

extension FollowHoldout {
    /// Where a split by time cuts.
    public struct TimeCuts: Sendable, Equatable {
        /// Test follows are made at or after `test`; validation follows in `[validation, test)`.
        public var validation: Timestamp
        public var test: Timestamp

        public init(validation: Timestamp, test: Timestamp) {
            self.validation = validation
            self.test = test
        }

        /// Test = the latest `testFraction` of the follows by time; validation = the slice of the
        /// same size just before it, so that validation resembles test.
        public static func fractions(_ s: Snapshot, test testFraction: Double) -> TimeCuts {
            TimeCuts(validation: s.followTimeQuantile(1 - 2 * testFraction), test: s.followTimeQuantile(1 - testFraction))
        }
    }

    /// The SPEC §4 split by time: test = follows made at or after `cuts.test` by users who followed
    /// someone before it; validation = follows made in `[cuts.validation, cuts.test)` by users who
    /// followed someone before `cuts.validation`. Each input graph holds only follows made before
    /// its cut: models train on, and validation queries see, the follows before `cuts.validation`;
    /// test queries see the follows before `cuts.test` (never a later follow-back). At most
    /// `maxUsers` users (seeded) per split.
    public static func byTime(_ s: Snapshot, cuts: TimeCuts, seed: UInt64, maxUsers: Int = 2_000) -> FollowHoldout {
        precondition(cuts.validation <= cuts.test, "the validation cut comes before the test cut")
        var rng = SplitMix64(seed: seed)
        var validation: [UserIndex: [UserIndex]] = [:], test: [UserIndex: [UserIndex]] = [:]
        var activeBeforeValidation = [Bool](repeating: false, count: s.userCount)
        var activeBeforeTest = [Bool](repeating: false, count: s.userCount)
        for b in 0..<Int32(s.userCount) {
            for e in s.followers.range(b) {
                let a = s.followers.targets[e], t = s.followedAt[e]
                if t < cuts.validation { activeBeforeValidation[Int(a)] = true }
                if t < cuts.test { activeBeforeTest[Int(a)] = true }
            }
        }
        for b in 0..<Int32(s.userCount) {
            for e in s.followers.range(b) {
                let a = s.followers.targets[e], t = s.followedAt[e]
                guard s.userFlags[Int(a)].isEmpty, a != b else { continue }
                if t >= cuts.test, activeBeforeTest[Int(a)] {
                    test[a, default: []].append(b)
                } else if t >= cuts.validation, t < cuts.test, activeBeforeValidation[Int(a)] {
                    validation[a, default: []].append(b)
                }
            }
        }
        func sample(_ m: [UserIndex: [UserIndex]]) -> [UserIndex: [UserIndex]] {
            var users = m.keys.sorted()
            users.shuffle(using: &rng)
            var out: [UserIndex: [UserIndex]] = [:]
            for u in users.prefix(maxUsers) { out[u] = Array(Set(m[u]!)).sorted() }
            return out
        }
        let train = s.keepingFollows(madeBefore: cuts.validation)
        let testInput = s.keepingFollows(madeBefore: cuts.test)
        return FollowHoldout(train: train, testInput: testInput, validation: sample(validation), test: sample(test))
    }
}

extension Snapshot {
    /// The graph of the follows made before `t`.
    public func keepingFollows(madeBefore t: Timestamp) -> Snapshot {
        keepingFollows { _, _, at in at < t }
    }
}
