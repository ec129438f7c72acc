import AsyncHTTPClient
import Foundation
import OrbitCore
import OrbitStore
import Testing
import TestThreads

/// `orbit serve` as a child process (the executable built beside the test bundle) over the store of a fixture.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let logPath: String
    var base: String { "http://127.0.0.1:\(port)" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `orbit serve` on `store` (default `dir/s.sqlite`) and returns once it printed the port it listens on.
    static func start(
        dir: String, store: String? = nil, token: String = ServerFixture.writeToken, extra: [String] = []
    ) async throws -> ServeProcess {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("orbit")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Failure(description: "no orbit executable at \(executable.path); run `swift build --build-tests` first")
        }
        let run = UUID().uuidString.prefix(8)
        let outPath = "\(dir)/serve-\(run).out", logPath = "\(dir)/serve-\(run).log"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let p = Process()
        p.executableURL = executable
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.arguments = [
            "serve", "--store", store ?? "\(dir)/s.sqlite", "--port", "0", "--write-token", token, "--refresh-seconds", "0", "--poll-seconds", "0",
            "--follow-model", "\(dir)/follow.model", "--click-model", "\(dir)/click.json",
        ] + extra
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: logPath)
        try p.run()
        let started = ServeProcess(process: p, port: 0, logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("orbit listening on 127.0.0.1:") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                return ServeProcess(process: p, port: port, logPath: logPath)
            }
            guard p.isRunning else { throw Failure(description: "orbit serve exited (\(p.terminationStatus)): \(started.log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        started.kill()
        throw Failure(description: "orbit serve printed no port within 60 s: \(started.log)")
    }

    private init(process: Process, port: Int, logPath: String) {
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ s: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, s) }
    }

    /// SIGKILL if still running, and reap it: for `defer`.
    func kill() {
        guard process.isRunning else { return }
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// True once the process has exited, false if it still runs after `timeout`.
    func waitForExit(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return true
    }

    /// Polls `/ready` until it answers 200.
    func waitUntilReady(_ client: HTTPClient, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await client.send(.GET, base + "/ready"))?.status == 200 { return }
            guard process.isRunning else { throw Failure(description: "orbit serve exited: \(log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "/ready did not answer 200 within \(timeout): \(log)")
    }
}

@Suite(.testThreads) struct ProcessTests {
    static let users = 200
    static let writers = 4
    static let batchSize = 20

    /// Batch `n` of writer `w`: a new user `k<w>-<n>` follows 20 users, every other one new as well.
    static func followees(_ w: Int, _ n: Int) -> [String] {
        (0..<batchSize).map { i in i % 2 == 0 ? "u\((w * 7_919 + n * batchSize + i) % users)" : "k\(w)-\(n)-\(i)" }
    }

    static func batchBody(_ w: Int, _ n: Int) -> [UInt8] {
        let events = followees(w, n).map { "{\"type\":\"follow\",\"follower\":\"k\(w)-\(n)\",\"followee\":\"\($0)\"}" }
        return Array("{\"mode\":\"atomic\",\"events\":[\(events.joined(separator: ","))]}".utf8)
    }

    @Test func acknowledgedBatchesSurviveSIGKILLWholeAndARestartServesThem() async throws {
        let f = try await ServerFixture.make(users: Self.users, seed: 21)
        defer { f.remove() }
        let before = try await f.fingerprint()
        let server = try await ServeProcess.start(dir: f.dir)
        defer { server.kill() }

        // Each writer: (batch, acknowledged) in order, until the server is gone; and any other answer it got.
        let outcomes = try await withHTTPClient(connections: Self.writers) { client in
            try await server.waitUntilReady(client)
            let start = ContinuousClock.now
            return await withTaskGroup(of: (Int, [(Int, Bool)], [String]).self) { group in
                group.addTask {
                    try? await Task.sleep(until: start + .seconds(1))
                    server.signal(SIGKILL)
                    return (-1, [], [])
                }
                for w in 0..<Self.writers {
                    group.addTask {
                        var sent: [(Int, Bool)] = [], unexpected: [String] = []
                        for n in 0..<100_000 {
                            let headers = [("Authorization", "Bearer \(ServerFixture.writeToken)"), ("Content-Type", "application/json")]
                            do {
                                let r = try await client.send(.POST, server.base + "/v1/events", headers: headers, body: Self.batchBody(w, n))
                                let ok = r.status == 200 && r.object?["accepted"] as? Int == Self.batchSize
                                sent.append((n, ok))
                                if !ok { unexpected.append("k\(w)-\(n): \(r.status) \(r.text.prefix(200))") }
                            } catch {
                                sent.append((n, false))  // in flight when the server died: may or may not be in the store
                                break
                            }
                        }
                        return (w, sent, unexpected)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }.filter { $0.0 >= 0 }
            }
        }
        try #require(try await server.waitForExit(timeout: .seconds(5)), "orbit serve still runs 5 s after SIGKILL")
        #expect(server.process.terminationReason == .uncaughtSignal && server.process.terminationStatus == SIGKILL)
        #expect(outcomes.flatMap(\.2).isEmpty, "answers other than 200 before the kill: \(outcomes.flatMap(\.2).prefix(5))")

        // Every batch is all there or not at all; every acknowledged one is all there.
        let store = try SQLiteStore(path: f.dir + "/s.sqlite")
        let loaded = try await store.loadSnapshot()
        let ids = loaded.catalog.users
        var acknowledged = 0, present = 0, partial: [String] = [], lost: [String] = []
        for (w, sent, _) in outcomes {
            for (n, ok) in sent {
                let follower = ids.index(of: "k\(w)-\(n)")
                let edges = Self.followees(w, n).filter { followee in
                    guard let u = follower, let v = ids.index(of: followee) else { return false }
                    return loaded.snapshot.follows(u, v)
                }.count
                let newUsers = Self.followees(w, n).filter { $0.hasPrefix("k") && ids.index(of: $0) != nil }.count + (follower == nil ? 0 : 1)
                if ok { acknowledged += 1 }
                if edges == Self.batchSize { present += 1 }
                if !(edges == 0 && newUsers == 0) && !(edges == Self.batchSize && newUsers == Self.batchSize / 2 + 1) {
                    partial.append("k\(w)-\(n): \(edges) edges, \(newUsers) new users")
                }
                if ok && edges != Self.batchSize { lost.append("k\(w)-\(n)") }
            }
        }
        #expect(acknowledged >= Self.writers, "too few acknowledged batches to test anything: \(acknowledged)")
        #expect(lost.isEmpty, "acknowledged batches missing after SIGKILL: \(lost.prefix(10))")
        #expect(partial.isEmpty, "batches partly in the store: \(partial.prefix(10))")
        print("SIGKILL: \(outcomes.map(\.1.count).reduce(0, +)) batches sent, \(acknowledged) acknowledged, \(present) in the store")
        let after = try await store.counts()
        #expect(after.follows - before.follows == present * Self.batchSize)
        #expect(after.users - before.users == present * (Self.batchSize / 2 + 1))

        // A restart on the same store serves the new users.
        let again = try await ServeProcess.start(dir: f.dir)
        defer { again.kill() }
        let firstAcknowledged = try #require(outcomes.first { $0.1.first?.1 == true }.map { "k\($0.0)-0" })
        try await withHTTPClient { client in
            try await again.waitUntilReady(client)
            let summary = try await client.send(.GET, again.base + "/v1/users/\(firstAcknowledged)")
            #expect(summary.status == 200 && summary.object?["followees"] as? Int == Self.batchSize, "\(summary.text.prefix(300))")
            let recs = try await client.send(.GET, again.base + "/v1/users/\(firstAcknowledged)/follow-recommendations?k=10")
            #expect(recs.status == 200 && recs.object?["items"] is [Any], "\(recs.text.prefix(300))")
        }
        again.signal(SIGTERM)
        #expect(try await again.waitForExit(timeout: .seconds(10)))
    }

    /// What happened to each request of the drain test.
    actor DrainLog {
        enum Outcome { case answered(status: Int, complete: Bool), cut(status: Int), noResponse(String) }
        struct Entry {
            var started: ContinuousClock.Instant
            var ended: ContinuousClock.Instant
            var outcome: Outcome
        }
        let total: Int
        let signalAfter: Int
        let onSignal: @Sendable () -> Void
        private var issued = 0
        private(set) var entries: [Entry] = []
        private(set) var signalledAt: ContinuousClock.Instant?

        init(total: Int, signalAfter: Int, onSignal: @escaping @Sendable () -> Void) {
            self.total = total
            self.signalAfter = signalAfter
            self.onSignal = onSignal
        }

        func next() -> Bool {
            guard issued < total else { return false }
            issued += 1
            return true
        }

        /// Records a request; the `signalAfter`-th answer sends the signal, while the other workers' requests are in flight.
        func record(_ entry: Entry) {
            entries.append(entry)
            if entries.count == signalAfter {
                signalledAt = ContinuousClock.now
                onSignal()
            }
        }
    }

    @Test func sigtermDrainsInFlightRequestsAndExitsZero() async throws {
        let f = try await ServerFixture.make(users: 300, seed: 23)
        defer { f.remove() }
        let server = try await ServeProcess.start(dir: f.dir)
        defer { server.kill() }
        let workers = 16
        let log = DrainLog(total: 200, signalAfter: 40) { server.signal(SIGTERM) }

        // Requests sent after the listener closed are refused: a short connect timeout lets them fail fast.
        try await withHTTPClient(connections: workers, connect: .milliseconds(250)) { client in
            try await server.waitUntilReady(client)
            let url = server.base + "/v1/users/u1/follow-recommendations?k=50&explain=true"
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        while await log.next() {
                            let started = ContinuousClock.now
                            let outcome: DrainLog.Outcome
                            do {
                                let r = try await client.send(.GET, url)
                                outcome = .answered(status: r.status, complete: r.object?["items"] is [Any])
                            } catch let e as BodyCut {
                                outcome = .cut(status: e.status)
                            } catch {
                                outcome = .noResponse("\(error)")
                            }
                            await log.record(.init(started: started, ended: ContinuousClock.now, outcome: outcome))
                        }
                    }
                }
            }
        }
        let signalled = try #require(await log.signalledAt)
        let exited = try await server.waitForExit(timeout: max(.zero, signalled + .seconds(8) - ContinuousClock.now))
        try #require(exited, "orbit serve still runs 8 s after SIGTERM")
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
        #expect(server.log.contains("stopped"), "no \"stopped\" in the log: \(server.log.suffix(500))")

        let entries = await log.entries
        var bad: [String] = [], inFlight = 0, drained = 0, dropped: [String] = [], refused = 0
        for e in entries {
            let wasInFlight = e.started < signalled && e.ended > signalled
            if wasInFlight { inFlight += 1 }
            switch e.outcome {
            case .answered(let status, let complete):
                if status != 200 || !complete { bad.append("answered \(status)\(complete ? "" : ", body not the JSON answer")") }
                if wasInFlight { drained += 1 }
            case .cut(let status): bad.append("answered \(status), then the body was cut")
            case .noResponse(let error):
                if e.started < signalled { dropped.append(error) } else { refused += 1 }
            }
        }
        #expect(entries.count == 200)
        #expect(bad.isEmpty, "\(bad.count) requests answered wrongly: \(bad.prefix(5))")
        // The signal went out with requests in flight, and the server finished them rather than dropping them.
        #expect(inFlight > 0, "no request was in flight at SIGTERM: the test did not exercise draining")
        #expect(drained > 0 || dropped.isEmpty, "in flight at SIGTERM: \(inFlight), answered: \(drained), dropped: \(dropped.prefix(3))")
        print("drain: \(entries.count) requests, \(inFlight) in flight at SIGTERM (\(drained) answered), \(refused) refused after, dropped \(dropped.count)")
    }
}
