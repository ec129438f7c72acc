import Testing
@testable import NeuMF
import TestThreads

/// Which items each sampler may draw: training negatives avoid the training positives only,
/// validation negatives every split's positives. And neither validation nor training goes on
/// as if a NaN were a number.

/// One user, two items: item 0 is the training positive, item 1 is held out (test). The only
/// item a training negative can be is the held-out one.
@Test(.testThreads) func heldOutTestItemIsDrawnAsATrainingNegative() throws {
    let data = try TrainingData(users: [0], items: [0], userCount: 1)
    #expect(!data.exclusion.contains(user: 0, item: 1))
    let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: 1, itemCount: 2)
    var o = TrainingOptions()
    o.epochs = 3
    o.threads = 1
    o.negatives = 4
    o.learningRate = 0.05
    let initial = try NeuMFModel(configuration: config, seed: 1)
    let r = try NeuMFTrainer.train(initial, data: data, options: o)
    // Every positive came with its 4 negatives, and they can only have been the test item.
    #expect(r.epochs.allSatisfy { $0.samples == 5 }, "\(r.epochs.map(\.samples))")
    // Being drawn as a negative pushed the test item down below the positive.
    #expect(r.model.logit(user: 0, item: 1) < r.model.logit(user: 0, item: 0))
    #expect(r.model.logit(user: 0, item: 1) < initial.logit(user: 0, item: 1))
}

/// The exclusion NCF evaluation code used to build (train + validation + test positives) is
/// refused: it would hide the held-out items from training.
@Test(.testThreads) func trainerRefusesAnExclusionHoldingHeldOutItems() throws {
    let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: 2, itemCount: 4)
    let model = try NeuMFModel(configuration: config)
    let everySplit = try ItemSets(userCount: 2, pairs: [([0, 1], [1, 2]), ([1], [3])])
    let leaking = TrainingData(users: [0, 1], items: [1, 2], exclusion: everySplit)
    let error = #expect(throws: NeuMFError.self) { try NeuMFTrainer.train(model, data: leaking) }
    #expect(error?.description.contains("user 1, item 3") == true, "\(String(describing: error))")
    // The same pairs with their own exclusion train.
    let honest = try TrainingData(users: [0, 1], items: [1, 2], userCount: 2)
    var o = TrainingOptions()
    o.epochs = 1
    o.threads = 1
    _ = try NeuMFTrainer.train(model, data: honest, options: o)
}

/// Validation negatives, sampled from the every-split exclusion, never hit a positive of any
/// split, while the training exclusion of the same data leaves the held-out items out.
@Test(.testThreads) func validationNegativesNeverHitAnySplitsPositive() throws {
    let p = try Planted()
    // A test split as well: each user's last training item, moved out of training.
    var train: (u: [Int32], i: [Int32]) = ([], []), test: (u: [Int32], i: [Int32]) = ([], [])
    var last: [Int32: Int] = [:]
    for k in p.train.u.indices { last[p.train.u[k]] = k }
    for k in p.train.u.indices {
        if last[p.train.u[k]] == k {
            test.u.append(p.train.u[k]); test.i.append(p.train.i[k])
        } else {
            train.u.append(p.train.u[k]); train.i.append(p.train.i[k])
        }
    }
    let users = (0..<Int32(p.users)).map { $0 }
    let everySplit = try ItemSets(userCount: p.users, pairs: [(train.u, train.i), (users, p.heldOut), (test.u, test.i)])
    let data = try TrainingData(users: train.u, items: train.i, userCount: p.users)
    let v = try ValidationSet.sampled(users: users, heldOut: p.heldOut, exclusion: everySplit, itemCount: p.items,
                                      negativesPerUser: 30, seed: 5)
    for c in 0..<v.count {
        for n in v.negatives[(c * 30)..<((c + 1) * 30)] {
            #expect(!everySplit.contains(user: v.users[c], item: n), "user \(v.users[c]) got positive \(n)")
        }
    }
    // Training negatives may be validation and test items.
    for k in test.u.indices { #expect(!data.exclusion.contains(user: test.u[k], item: test.i[k])) }
    for u in users { #expect(!data.exclusion.contains(user: u, item: p.heldOut[Int(u)])) }
    #expect(data.exclusion.totalCount == train.u.count)
}

/// Refitting on train + validation turns the validation positives into training positives:
/// they join the exclusion, and the trainer accepts the result.
@Test(.testThreads) func refitExclusionIncludesTheValidationPositives() throws {
    let p = try Planted()
    let v = try p.validation()
    let all = p.data.adding(v)
    for c in 0..<v.count {
        #expect(!p.data.exclusion.contains(user: v.users[c], item: v.heldOut[c]))
        #expect(all.exclusion.contains(user: v.users[c], item: v.heldOut[c]))
    }
    #expect(all.exclusion.totalCount == p.data.exclusion.totalCount + v.count)

    // Observed in training: one user, item 0 trained on, item 1 its validation item. Training
    // on train alone can draw item 1 as a negative; on train + validation no item is left.
    let data = try TrainingData(users: [0], items: [0], userCount: 1)
    let validation = try ValidationSet(users: [0], heldOut: [1], negatives: [], negativesPerUser: 0)
    let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: 1, itemCount: 2)
    var o = TrainingOptions()
    o.epochs = 2
    o.threads = 1
    let initial = try NeuMFModel(configuration: config, seed: 1)
    let selected = try NeuMFTrainer.train(initial, data: data, options: o)
    #expect(selected.epochs.allSatisfy { $0.samples == 5 })
    let refitted = try NeuMFTrainer.refit(initial, data: data.adding(validation), options: o, selected: selected)
    #expect(refitted.epochs.count == 2)
    #expect(refitted.epochs.allSatisfy { $0.samples == 2 }, "\(refitted.epochs.map(\.samples))")
}

/// The validation metric used for epoch selection ranks non-finite scores last, so a model gone
/// NaN is never the best epoch.
@Test(.testThreads) func validationGivesANaNModelNoHits() throws {
    let p = try Planted()
    let config = NeuMFConfiguration(kind: .gmf, factors: 4, userCount: p.users, itemCount: p.items)
    let fresh = try NeuMFModel(configuration: config, seed: 1)
    let nan = try NeuMFModel(configuration: config, parameters: [Float](repeating: .nan, count: fresh.parameterCount))
    let (hr, nd) = evaluateValidation(nan, try p.validation(), k: 10, threads: 1)
    #expect(hr == 0 && nd == 0)
    // Fewer negatives than k: a NaN held-out item is still no hit.
    let few = try ValidationSet(users: [0, 1], heldOut: [p.heldOut[0], p.heldOut[1]], negatives: [0, 1, 2, 3],
                                negativesPerUser: 2)
    #expect(evaluateValidation(nan, few, k: 10, threads: 1) == (0, 0))
    #expect(evaluateValidation(fresh, few, k: 10, threads: 1).0 == 1)
}

/// An absurd learning rate overflows the parameters; training stops at once with an error that
/// names the model, the epoch and what to change.
@Test(.testThreads, arguments: [TrainingOptions.Optimizer.adam, .sgd])
func divergingTrainingStopsWithATypedError(optimizer: TrainingOptions.Optimizer) throws {
    let p = try Planted()
    let config = NeuMFConfiguration(kind: .gmf, factors: 8, userCount: p.users, itemCount: p.items)
    var o = TrainingOptions()
    o.epochs = 5
    o.threads = 1
    o.optimizer = optimizer
    o.learningRate = 1e30
    var reported = 0
    let error = #expect(throws: NeuMFError.self) {
        try NeuMFTrainer.train(try NeuMFModel(configuration: config, seed: 1), data: p.data,
                               validation: try p.validation(), options: o) { _ in reported += 1 }
    }
    guard case let .diverged(kind, epoch, loss, learningRate)? = error else {
        Issue.record("expected .diverged, got \(String(describing: error))")
        return
    }
    #expect(kind == .gmf)
    #expect(epoch == reported, "the diverged epoch is not reported as a finished one")
    #expect(epoch < o.epochs)
    #expect(!loss.isFinite)
    #expect(learningRate == 1e30)
    #expect(error!.description.contains("lower learning rate"))
    #expect(error!.description.contains("epoch \(epoch + 1)"))
}
