import Foundation
import OrbitEngine
import OrbitServer
import Testing
import TestThreads

@Suite(.testThreads) struct ConfigurationTests {
    @Test func fileThenEnvironmentThenValidationEachSayWhatIsWrong() throws {
        let path = NSTemporaryDirectory() + "orbit-config-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"port": 9090, "store": "x.sqlite", "maxK": 50, "training": {"follow": {"epochs": 3}}}"#.utf8).write(to: URL(fileURLWithPath: path))
        var c = try ServerConfiguration.load(file: path)
        #expect(c.port == 9090 && c.store == "x.sqlite" && c.maxK == 50 && c.training.follow.epochs == 3)
        #expect(c.host == "127.0.0.1" && c.training.follow.factors == TrainingPlan().follow.factors)  // defaults kept

        c = try c.applyingEnvironment([
            "ORBIT_PORT": "7070", "ORBIT_WRITE_TOKENS": " aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ", "ORBIT_POLL_SECONDS": "0.5",
            "ORBIT_EXPANSION_EDGES": "20000",
        ])
        #expect(c.port == 7070 && c.writeTokens == ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"] && c.pollSeconds == 0.5)
        #expect(c.expansionEdges == 20_000)
        #expect(c.durability == .full)  // acknowledged writes survive a power loss unless asked otherwise
        #expect(try c.applyingEnvironment(["ORBIT_DURABILITY": "normal"]).durability == .normal)
        #expect(throws: ConfigurationError.self) { try c.applyingEnvironment(["ORBIT_DURABILITY": "off"]) }
        let placed = try c.applyingEnvironment(["ORBIT_RETRAIN_IN": " Server ", "ORBIT_RETRAIN_IDLE": "false", "ORBIT_RETRAIN_NICE": "7", "ORBIT_REBUILD_NICE": "3"])
        #expect(placed.retrainIn == .server && !placed.retrainIdle && placed.retrainNice == 7 && placed.rebuildNice == 3)
        #expect(throws: ConfigurationError.self) { try c.applyingEnvironment(["ORBIT_RETRAIN_IN": "gpu"]) }
        #expect(throws: ConfigurationError.self) { try c.applyingEnvironment(["ORBIT_RETRAIN_IDLE": "yes"]) }
        var niceness = ServerConfiguration()
        niceness.writeTokens = ["0123456789abcdef0123"]
        #expect(throws: Never.self) { try niceness.validated() }
        niceness.retrainNice = 20
        #expect(throws: ConfigurationError.self) { try niceness.validated() }
        niceness.retrainNice = 19
        niceness.rebuildNice = -1
        #expect(throws: ConfigurationError.self) { try niceness.validated() }
        _ = try c.validated()

        #expect(throws: ConfigurationError.self) { try c.applyingEnvironment(["ORBIT_PORT": "eighty"]) }
        var bad = c
        bad.writeTokens = ["short"]
        #expect(throws: ConfigurationError.self) { try bad.validated() }
        bad = c
        bad.port = 70_000
        #expect(throws: ConfigurationError.self) { try bad.validated() }
        bad = c
        bad.expansionEdges = 0
        #expect(throws: ConfigurationError.self) { try bad.validated() }

        try Data(#"{"port": "not a number"}"#.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ServerConfiguration.load(file: path)
            Issue.record("a string port was accepted")
        } catch {
            #expect("\(error)".contains("port") && "\(error)".contains("integer"), "\(error)")
        }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.load(file: path + ".missing") }
    }
}
