import Foundation
import HummingbirdTesting
import Logging
import OrbitServer
import TestThreads
import Testing

/// `POST /v1/admin/refresh` while a retraining child runs: a plain rebuild goes ahead (the
/// scheduled ones do too), a second retraining is refused. The child is a script that holds
/// until the test lets it go, so the test does not depend on how long a training takes.
@Suite(.testThreads) struct RefreshRouteTests {
    @Test func aPlainRebuildGoesAheadWhileARetrainingChildRunsAndASecondRetrainingIsRefused() async throws {
        let f = try await ServerFixture.make(users: 200)
        defer { f.remove() }
        let script = f.dir + "/fake-orbit"
        try """
            #!/bin/sh
            touch "$0.started"
            while [ ! -f "$0.release" ]; do sleep 0.05; done
            exit 3
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .critical
        let service = OrbitService(configuration: f.service.configuration, store: f.store, logger: logger, executable: script)
        try await service.loadInitialState()
        try await service.live { (raw: any TestClientProtocol) async throws -> Void in
            let c = HTTPTestClient(raw: raw)
            #expect(try await c.post("/v1/admin/refresh?retrain=true", "{}").status == 202)
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: script + ".started"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(FileManager.default.fileExists(atPath: script + ".started"), "the retraining child did not start")
            #expect(try await c.get("/v1/model").object["refreshing"] as? Bool == true)

            let second = try await c.post("/v1/admin/refresh?retrain=true", "{}")
            #expect(second.status == 409 && second.error["code"] as? String == "refresh_running", "\(second.text)")
            #expect((second.error["message"] as? String)?.contains("retraining is running") == true, "\(second.text)")

            #expect(try await c.post("/v1/users", #"{"id": "during-retraining"}"#).status == 200)
            #expect(try await c.post("/v1/follows", #"{"follower": "during-retraining", "followee": "u2"}"#).status == 200)
            let rebuilt = try await c.post("/v1/admin/refresh?wait=true", "")
            #expect(rebuilt.status == 200, "\(rebuilt.text)")
            #expect(rebuilt.object["retrained"] as? Bool == false && rebuilt.object["replayedChanges"] as? Int ?? 0 >= 2, "\(rebuilt.text)")
            #expect(try await c.get("/v1/users/during-retraining").object["followees"] as? Int == 1)

            // The child fails: the retraining ends, the models in service keep serving.
            FileManager.default.createFile(atPath: script + ".release", contents: nil)
            while try await c.get("/v1/model").object["refreshing"] as? Bool != false, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await c.get("/v1/model").object["refreshing"] as? Bool == false)
            #expect(try await c.get("/v1/users/u1/follow-recommendations?k=5").status == 200)
        }
    }
}
