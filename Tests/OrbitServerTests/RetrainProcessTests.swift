import Foundation
import Logging
import OrbitEngine
@testable import OrbitServer
import Synchronization
import Testing
import TestThreads

/// Retraining in a child process (`retrainIn: process`, what `orbit serve` does): the same files as
/// in the server's own thread, statuses reported back, rebuilds carry on while it trains, and a
/// child that fails or cannot start leaves the models in service.
@Suite(.testThreads) struct RetrainProcessTests {
    @Test func theChildWritesTheSameModelAsTheServersThreadAndReportsItsFigures() async throws {
        let plan = EngineTests.plan
        let f = try await ServerFixture.make(users: 250, seed: 31) { c in
            c.training = plan
            c.training.ranker.enabled = false  // the ranker through the child: RankerServingTests
        }
        defer { f.remove() }
        #expect(f.service.configuration.retrainIn == .process, "the default placement")
        let report = try await f.service.refresh(retrain: true)
        #expect(report.retrained && report.trainSeconds.map { $0 > 0 } == true)
        let follow = try #require(report.followModel)
        #expect(follow.origin == "trained" && follow.validationHR10 != nil && follow.trainSeconds != nil, "\(follow)")
        #expect(report.relationIndex?.origin == "trained")
        let modelPath = f.service.configuration.followModel
        let log = try String(contentsOfFile: modelPath + ".retrain.log", encoding: .utf8)
        #expect(log.contains("trained in"), "the child's log: \(log.suffix(500))")
        #expect(!FileManager.default.fileExists(atPath: modelPath + ".retrain-plan.json"), "the plan handed to the child is removed")
        let child = try Data(contentsOf: URL(fileURLWithPath: modelPath))

        // The same plan in the server's thread, on the same store, into other files.
        var c = f.service.configuration
        c.retrainIn = .server
        c.followModel = f.dir + "/thread/follow.model"
        c.clickModel = f.dir + "/thread/click.json"
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .warning
        let inThread = OrbitService(configuration: c, store: f.store, logger: logger)
        try await inThread.loadInitialState()
        let threadReport = try await inThread.refresh(retrain: true)
        let thread = try Data(contentsOf: URL(fileURLWithPath: c.followModel))
        #expect(child.count > 1_000 && child == thread, "child \(child.count) bytes, thread \(thread.count) bytes")
        #expect(threadReport.followModel?.validationHR10 == follow.validationHR10)
    }

    @Test func rebuildsCarryOnWhileTheChildTrains() async throws {
        let f = try await ServerFixture.make(users: 1_000, seed: 5) { c in
            // Long enough in a debug build that a rebuild fits inside it many times over.
            c.training.follow.epochs = 15
            c.training.follow.patience = 15
            c.training.ranker.enabled = false
        }
        defer { f.remove() }
        let done = Mutex(false)
        let retraining = Task(executorPreference: TestExecutor.tests) {
            defer { done.withLock { $0 = true } }
            return try await f.service.refresh(retrain: true)
        }
        let log = f.service.configuration.followModel + ".retrain.log"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: log), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(FileManager.default.fileExists(atPath: log), "the child never started")
        let rebuilt = try await f.service.refresh(retrain: false)
        #expect(!rebuilt.retrained && rebuilt.followModel == nil, "a rebuild meanwhile keeps the models in service (none yet)")
        #expect(!done.withLock { $0 }, "the rebuild waited for the retraining")
        let retrained = try await retraining.value
        #expect(retrained.retrained && retrained.followModel?.origin == "trained")
        #expect(retrained.snapshotVersion >= rebuilt.snapshotVersion)
    }

    @Test func aChildThatFailsOrCannotStartLeavesTheModelsInService() async throws {
        let f = try await ServerFixture.make(users: 200) { c in c.training.ranker.enabled = false }
        defer { f.remove() }
        let trained = try await f.service.refresh(retrain: true)
        let parameters = try #require(trained.followModel?.parameters)
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .critical
        for (executable, says) in [("/bin/false", "exited with status 1"), (f.dir + "/no-such-orbit", "cannot start")] {
            let broken = OrbitService(configuration: f.service.configuration, store: f.store, logger: logger, executable: executable)
            try await broken.loadInitialState()
            await #expect { try await broken.refresh(retrain: true) } throws: { error in
                guard let e = error as? RefreshError, case .trainingProcess = e else { return false }
                return e.description.contains(says) && e.description.contains("the previous model keeps serving")
            }
            let after = try await broken.refresh(retrain: false)
            #expect(after.followModel?.parameters == parameters, "\(executable): the model in service is kept")
        }
        let noBinary = OrbitService(configuration: f.service.configuration, store: f.store, logger: logger)
        try await noBinary.loadInitialState()
        await #expect { try await noBinary.refresh(retrain: true) } throws: { error in
            guard let e = error as? RefreshError, case .noExecutable = e else { return false }
            return e.description.contains("retrainIn")
        }
    }

    @Test func theChildRunsInTheIdleClassAtItsNicenessAsConfigured() throws {
        var c = ServerConfiguration()
        c.followModel = "/data/follow.model"
        c.clickModel = "/data/click.json"
        let tail = ["/opt/orbit", "train", "all", "--plan", "/p.json", "--out", "/data/follow.model", "--click-model", "/data/click.json",
                    "--report", "/data/follow.model.retrain-report.json"]
        #expect(c.retrainIn == .process && c.retrainIdle && c.retrainNice == 19, "the defaults")
        #expect(RetrainProcess(executable: "/opt/orbit", configuration: c, logger: Logger(label: "t")).command(planPath: "/p.json")
                == ["/usr/bin/chrt", "--idle", "0", "/usr/bin/nice", "-n", "19"] + tail)
        c.retrainIdle = false
        c.retrainNice = 5
        #expect(RetrainProcess(executable: "/opt/orbit", configuration: c, logger: Logger(label: "t")).command(planPath: "/p.json")
                == ["/usr/bin/nice", "-n", "5"] + tail)
        c.retrainNice = 0
        #expect(RetrainProcess(executable: "/opt/orbit", configuration: c, logger: Logger(label: "t")).command(planPath: "/p.json") == tail)
    }
}
