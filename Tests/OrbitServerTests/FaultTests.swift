import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import Logging
import NeuMF
import OrbitCore
import OrbitPostgres
import OrbitServer
import OrbitStore
import OrbitSynth
import Synchronization
import Testing
import TestThreads

/// The value of an unlabelled counter in a Prometheus exposition (0 when absent).
func counter(_ name: String, in exposition: String) -> Int {
    exposition.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? 0
}

@Suite(.testThreads) struct ModelFileFaultTests {
    @Test func aCorruptTruncatedOrForeignModelFileIsRefusedAndTheModelInServiceKeepsServing() async throws {
        let f = try await ServerFixture.make(users: 200) {
            $0.training.ranker.enabled = false
            $0.training.relationIndex.build = .never  // the model file alone: the index has checks of its own
        }
        defer { f.remove() }
        let path = f.service.configuration.followModel
        let trained = try await f.service.refresh(retrain: true)
        let parameters = try #require(trained.followModel?.parameters)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let userCount = try await f.store.counts().users
        let foreign = try NeuMFModel(configuration: NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: userCount + 100,
                                                                   itemCount: userCount + 100), seed: 1)
        try await f.withServer { c in
            let faults: [(String, () throws -> Void, String)] = [
                ("corrupt", { try Data("this is not a model file".utf8).write(to: URL(fileURLWithPath: path)) }, path),
                ("truncated", { try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: path)) }, path),
                ("another id space", { try foreign.save(to: path) }, "another id space"),
            ]
            for (n, (what, fault, says)) in faults.enumerated() {
                try await Task.sleep(for: .milliseconds(20))  // a modification time after the model in service
                try fault()
                let report = try await f.service.refresh(retrain: false)
                #expect(report.refusedModel?.contains(says) == true, "\(what): \(report.refusedModel ?? "not refused")")
                let model = try await c.get("/v1/model").object["followModel"] as? [String: Any]
                #expect(model?["origin"] as? String == "trained" && model?["parameters"] as? Int == parameters, "\(what): \(model ?? [:])")
                #expect(counter("orbit_model_files_refused_total", in: try await c.get("/metrics").text) == n + 1, "\(what)")
                #expect(try await c.get("/v1/users/u1/follow-recommendations?k=5").status == 200)
            }
        }
        // At start: the corrupt file is refused and the service starts without a model instead of not at all.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .critical
        let fresh = OrbitService(configuration: f.service.configuration, store: f.store, logger: logger, executable: OrbitCommand.executable.path)
        try await fresh.loadInitialState()
        try await fresh.live { (raw: any TestClientProtocol) async throws -> Void in
            let c = HTTPTestClient(raw: raw)
            #expect(try await c.get("/ready").status == 200)
            #expect(try await c.get("/v1/model").object["followModel"] == nil)
            #expect(counter("orbit_model_files_refused_total", in: try await c.get("/metrics").text) == 1)
            #expect(users(try await c.get("/v1/users/u1/follow-recommendations?k=5")).count == 5)
        }
        // The good file back: picked up at the next rebuild.
        try good.write(to: URL(fileURLWithPath: path))
        let back = try await fresh.refresh(retrain: false)
        #expect(back.refusedModel == nil && back.followModel?.origin == "file" && back.followModel?.parameters == parameters)
    }
}

/// Whether this process may mount a small tmpfs: root, in a container that allows it.
enum TmpfsProbe {
    static let allowed: Bool = {
        guard getuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "orbit-mount-probe-" + UUID().uuidString
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? OwnPostgres.run(["/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe])) == 0 else { return false }
        _ = try? OwnPostgres.run(["/bin/umount", probe])
        return true
    }()
}

@Suite(.testThreads, .enabled(if: TmpfsProbe.allowed, "needs root and a container that may mount a tmpfs (scripts/test.sh runs as root)"))
struct DiskFullTests {
    static func run(_ args: [String]) throws -> Int32 { try OwnPostgres.run(args) }

    @Sendable static func batch(_ n: Int) -> String {
        let events = (0..<20).map { #"{"type": "follow", "follower": "full-\#(n)", "followee": "u\#(($0 * 7 + n) % 200)"}"# }
        return #"{"events": [\#(events.joined(separator: ","))]}"#
    }

    @Test func aFullDiskRefusesWritesClearlyKeepsReadsAndLeavesTheStoreIntact() async throws {
        let dir = NSTemporaryDirectory() + "orbit-full-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #require(try Self.run(["/bin/mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir]) == 0, "mount -t tmpfs failed")
        defer {
            _ = try? Self.run(["/bin/umount", dir])
            try? FileManager.default.removeItem(atPath: dir)
        }
        var cfg = SynthConfig()
        cfg.users = 200
        cfg.seed = 31
        let gen = NSTemporaryDirectory() + "orbit-full-gen-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: gen) }
        let paths = try Generator(config: cfg).generate().writeCSV(to: gen)
        let store = try SQLiteStore(path: dir + "/s.sqlite")
        _ = try await store.importFiles(paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(),
                                        progress: nil)
        let service = try await ServerFixture.service(on: store, dir: dir)
        let batch = Self.batch
        let (acknowledged, refused) = try await service.live { (raw: any TestClientProtocol) async throws -> ([Int], [(Int, HTTPResult)]) in
            var acknowledged: [Int] = [], refused: [(Int, HTTPResult)] = []
            let c = HTTPTestClient(raw: raw)
            #expect(try await c.post("/v1/events", batch(0)).status == 200)
            acknowledged.append(0)
            // Fill the file system, then keep writing until the store refuses.
            let filler = FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: dir + "/filler", contents: nil); return dir + "/filler" }())!
            let chunk = Data(repeating: 0x55, count: 16_384)
            while (try? filler.write(contentsOf: chunk)) != nil {}
            try? filler.close()
            var n = 1
            while refused.count < 5 && n < 2_000 {
                let r = try await c.post("/v1/events", batch(n))
                if r.status == 200 { acknowledged.append(n) } else { refused.append((n, r)) }
                n += 1
            }
            #expect(refused.count == 5, "the store acknowledged \(acknowledged.count) batches on a full disk and refused none")
            for (n, r) in refused {
                #expect(r.status == 503 && r.error["code"] as? String == "store_unavailable", "batch \(n): \(r.status) \(r.text.prefix(300))")
                #expect((r.error["message"] as? String)?.contains("disk") == true, "batch \(n): \(r.text.prefix(300))")
            }
            // Reads keep answering from the snapshot.
            for u in 0..<20 { #expect(try await c.get("/v1/users/u\(u)/follow-recommendations?k=5").status == 200) }
            #expect(try await c.get("/v1/users/full-0").status == 200)
            // Space again: writes succeed.
            try FileManager.default.removeItem(atPath: dir + "/filler")
            let after = try await c.post("/v1/events", batch(5_000))
            #expect(after.status == 200, "\(after.text.prefix(300))")
            if after.status == 200 { acknowledged.append(5_000) }
            return (acknowledged, refused)
        }
        print("full disk: \(acknowledged.count) batches acknowledged, \(refused.count) refused with 503 while the disk was full")
        // The store is intact: every acknowledged batch whole, no refused one at all.
        let reopened = try SQLiteStore(path: dir + "/s.sqlite")
        #expect(try await reopened.integrityCheck() == ["ok"])
        let loaded = try await reopened.loadSnapshot()
        for n in acknowledged {
            let u = try #require(loaded.catalog.users.index(of: "full-\(n)"), "acknowledged batch \(n) is missing")
            #expect(loaded.snapshot.followees.degree(u) == 20, "batch \(n) is partly there")
        }
        for (n, _) in refused { #expect(loaded.catalog.users.index(of: "full-\(n)") == nil, "refused batch \(n) was stored") }
    }
}

/// `kill -9` of `orbit serve` under a write flood, again and again, on SQLite and on PostgreSQL,
/// with a client-side ledger of what was acknowledged.
@Suite(.testThreads) struct RepeatedKillTests {
    static let rounds = 5, writers = 4, batchSize = 20, users = 200

    /// Batch `n` of writer `w` in round `r`: a new user follows 20 users, every other one new too.
    static func followees(_ id: String, _ n: Int) -> [String] {
        (0..<batchSize).map { i in i % 2 == 0 ? "u\((n * batchSize + i * 13) % users)" : "\(id)-x\(i)" }
    }

    static func body(_ id: String, _ n: Int) -> [UInt8] {
        let events = followees(id, n).map { "{\"type\":\"follow\",\"follower\":\"\(id)\",\"followee\":\"\($0)\"}" }
        return Array("{\"events\":[\(events.joined(separator: ","))]}".utf8)
    }

    struct Entry: Sendable { var id: String; var n: Int; var acknowledged: Bool }

    /// Acknowledgements in the current round, so that the kill waits for writes rather than for
    /// a fixed time: a loaded CI machine acknowledges far fewer batches in 300 ms.
    final class Acknowledged: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test(arguments: FeedbackRouteTests.Backend.available)
    func everyAcknowledgedWriteSurvivesRepeatedSIGKILLAndNoneIsStoredTwice(_ backend: FeedbackRouteTests.Backend) async throws {
        let stores = try await FeedbackRouteTests.Stores.make(backend)
        do {
            var cfg = SynthConfig()
            cfg.users = Self.users
            cfg.seed = 21
            let paths = try Generator(config: cfg).generate().writeCSV(to: stores.dir + "/gen")
            let first = try await stores.open()
            _ = try await first.importFiles(
                paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(), progress: nil)
            let v0 = try await first.currentVersion()
            let before = try await first.counts()
            var ledger: [Entry] = []
            for round in 0..<Self.rounds {
                let server = try await ServeProcess.start(dir: stores.dir, store: stores.location)
                defer { server.kill() }
                let entries = try await withHTTPClient(connections: Self.writers) { client in
                    try await server.waitUntilReady(client)
                    let start = ContinuousClock.now
                    let acks = Acknowledged()
                    return await withTaskGroup(of: [Entry].self) { group in
                        group.addTask {
                            // At least one acknowledged batch per writer, then a varying moment, so
                            // that the kill lands at a different point of a write each round.
                            try? await Task.sleep(until: start + .milliseconds(300 + 150 * round))
                            while acks.count.load(ordering: .relaxed) < Self.writers && ContinuousClock.now - start < .seconds(30) {
                                try? await Task.sleep(for: .milliseconds(10))
                            }
                            try? await Task.sleep(for: .milliseconds(17 * round))
                            server.signal(SIGKILL)
                            return []
                        }
                        for w in 0..<Self.writers {
                            group.addTask {
                                var out: [Entry] = []
                                let headers = [("Authorization", "Bearer \(ServerFixture.writeToken)"), ("Content-Type", "application/json")]
                                for n in 0..<100_000 {
                                    let id = "r\(round)w\(w)n\(n)"
                                    do {
                                        let r = try await client.send(.POST, server.base + "/v1/events", headers: headers, body: Self.body(id, n))
                                        let ok = r.status == 200 && r.object?["accepted"] as? Int == Self.batchSize
                                        if ok { acks.count.add(1, ordering: .relaxed) }
                                        out.append(Entry(id: id, n: n, acknowledged: ok))
                                    } catch {
                                        out.append(Entry(id: id, n: n, acknowledged: false))  // in flight at the kill: either way
                                        break
                                    }
                                }
                                return out
                            }
                        }
                        return await group.reduce(into: []) { $0 += $1 }
                    }
                }
                try #require(try await server.waitForExit(timeout: .seconds(5)), "orbit serve still runs 5 s after SIGKILL")
                ledger += entries
            }
            let store = try await stores.open()
            let loaded = try await store.loadSnapshot()
            let ids = loaded.catalog.users
            var present = 0, lost: [String] = [], partial: [String] = []
            for e in ledger {
                let u = ids.index(of: e.id)
                let edges = u.map { u in Self.followees(e.id, e.n).filter { ids.index(of: $0).map { loaded.snapshot.follows(u, $0) } ?? false }.count } ?? 0
                if edges == Self.batchSize { present += 1 } else if edges > 0 || u != nil { partial.append("\(e.id): \(edges) edges") }
                if e.acknowledged && edges != Self.batchSize { lost.append(e.id) }
            }
            let acknowledged = ledger.filter(\.acknowledged).count
            #expect(acknowledged >= Self.rounds * Self.writers, "too few acknowledged batches to test anything: \(acknowledged)")
            #expect(lost.isEmpty, "acknowledged batches missing: \(lost.prefix(10))")
            #expect(partial.isEmpty, "batches partly stored: \(partial.prefix(10))")
            // None twice: the rows and the change log hold each write once.
            let after = try await store.counts()
            #expect(after.follows - before.follows == present * Self.batchSize)
            #expect(after.users - before.users == present * (Self.batchSize / 2 + 1))
            let changes = try await store.changes(since: v0, limit: 10_000_000)
            #expect(changes.filter { $0.operation == .follow }.count == present * Self.batchSize)
            #expect(changes.filter { $0.operation == .user }.count == present * (Self.batchSize / 2 + 1))
            print("kill -9 ×\(Self.rounds) on \(backend.rawValue): \(ledger.count) batches sent, \(acknowledged) acknowledged, "
                + "\(present) in the store, \(lost.count) acknowledged and lost, \(partial.count) partial, "
                + "\(changes.count - present * (Self.batchSize + Self.batchSize / 2 + 1)) logged twice")
        } catch {
            await stores.remove()
            throw error
        }
        await stores.remove()
    }
}

/// A PostgreSQL server of the test's own (initdb in a temporary folder, a free port), so that
/// stopping it touches no other test.
final class OwnPostgres: Sendable {
    let dir: String
    let port: Int
    let bin: String
    private let asPostgres: [String]

    static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    init() throws {
        bin = try #require(Self.binaries, "no PostgreSQL server binaries (scripts/test.sh installs them)")
        dir = NSTemporaryDirectory() + "orbit-own-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // initdb refuses to run as root.
        asPostgres = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if getuid() == 0 { _ = try Self.run(["/bin/chown", "postgres", dir]) }
        var p = 0
        for _ in 0..<50 {
            let candidate = Int.random(in: 20_000..<60_000)
            if !Self.listening(candidate) { p = candidate; break }
        }
        port = p
        try #require(try Self.run(asPostgres + ["\(bin)/initdb", "-D", "\(dir)/data", "-U", "postgres", "-A", "trust", "--no-sync"]) == 0)
    }

    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// Runs a command to its end with output discarded and no descriptor of this process inherited.
    /// posix_spawn and waitpid, not Foundation's Process: its wait did not return for `pg_ctl start`,
    /// whose server outlives it.
    @discardableResult
    static func run(_ args: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of this process may reach the child: `pg_ctl start` leaves a server running
        // that would hold every socket open here (the in-process test servers' listening sockets
        // and accepted connections), so a connection the test server closed would stay open in
        // PostgreSQL and a client reusing it would wait for an answer for ever.
        // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module hides it.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw ServeProcess.Failure(description: "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")
        }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw ServeProcess.Failure(description: "cannot run \(args[0]): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }

    /// Runs a command on a thread of its own: a blocking waitpid on one of the tests' threads held
    /// the tests queued behind it for as long as `pg_ctl` took. At normal priority: the PostgreSQL
    /// server that `pg_ctl` starts inherits the thread's niceness.
    static func runOffPool(_ args: [String]) async throws -> Int32 {
        try await offThePool(nice: 0) { try run(args) }
    }

    func start() async throws {
        try #require(try await Self.runOffPool(asPostgres + ["\(bin)/pg_ctl", "-D", "\(dir)/data", "-l", "\(dir)/server.log", "-w",
                                                "-o", "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1", "start"]) == 0)
    }

    func stop() async throws {
        try #require(try await Self.runOffPool(asPostgres + ["\(bin)/pg_ctl", "-D", "\(dir)/data", "-m", "fast", "-w", "stop"]) == 0)
    }

    func remove() {
        _ = try? Self.run(asPostgres + ["\(bin)/pg_ctl", "-D", "\(dir)/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Runs alone (`ORBIT_RESTART_TEST=1`, a separate `swift test` run of scripts/test.sh): beside the
/// other 60 suites on two cores it has hung the whole run (a request or the test's own tasks never
/// resumed), while alone it passes every time. That was before the tests left the cooperative pool
/// (`.testThreads`), whose starvation may explain it; not re-tried beside the others since.
@Suite(.testThreads, .enabled(if: ProcessInfo.processInfo.environment["ORBIT_RESTART_TEST"] == "1",
                "runs alone: ORBIT_RESTART_TEST=1 swift test --filter PostgresRestartTests (scripts/test.sh does)"))
struct PostgresRestartTests {
    /// One request of the load and what it got.
    struct Outcome: Sendable {
        var replica: Int
        var write: Bool
        var at: Double
        var status: Int
        var code: String?
        var message: String? = nil
    }

    // A hang (a request never answered) fails the test instead of holding the suite.
    @Test(.timeLimit(.minutes(3)))
    func twoReplicasKeepReadingRefuseWritesClearlyWhileTheDatabaseIsDownAndReconnectByThemselves() async throws {
        let pg = try OwnPostgres()
        defer { pg.remove() }
        try await pg.start()
        let server = try PostgresStore.Configuration(url: pg.url)
        try await PostgresStore.createDatabase("orbit_restart", server: server)
        let dir = NSTemporaryDirectory() + "orbit-restart-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cfg = SynthConfig()
        cfg.users = 200
        cfg.seed = 41
        let paths = try Generator(config: cfg).generate().writeCSV(to: dir + "/gen")
        let storeA = try await PostgresStore.open(server.database("orbit_restart"))
        let storeB = try await PostgresStore.open(server.database("orbit_restart"))
        _ = try await storeA.importFiles(paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(),
                                         progress: nil)
        let a = try await ServerFixture.service(on: storeA, dir: dir, poll: 0.2)
        let b = try await ServerFixture.service(on: storeB, dir: dir, poll: 0.2)
        let clock = ContinuousClock(), t0 = clock.now
        @Sendable func seconds() -> Double { let d = clock.now - t0; return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let (outcomes, times) = try await a.live { (ra: any TestClientProtocol) async throws -> ([Outcome], [String: Double]) in
            try await b.live { (rb: any TestClientProtocol) async throws -> ([Outcome], [String: Double]) in
                let clients = [HTTPTestClient(raw: ra), HTTPTestClient(raw: rb)]
                let stop = Flag()
                // Load: each replica reads and writes every 50 ms until told to stop.
                let load = Task(executorPreference: TestExecutor.servers) { () -> [Outcome] in
                    try await withThrowingTaskGroup(of: [Outcome].self) { group in
                        for (i, c) in clients.enumerated() {
                            group.addTask {
                                var out: [Outcome] = [], count = 0
                                while await !stop.isSet {
                                    let n = count
                                    let read = try await answered(within: .seconds(20), "read \(n) on replica \(i) at \(seconds()) s") {
                                        try await c.get("/v1/users/u\(n % 200)/follow-recommendations?k=5")
                                    }
                                    out.append(Outcome(replica: i, write: false, at: seconds(), status: read.status, code: read.error["code"] as? String))
                                    let w = try await answered(within: .seconds(20), "write \(n) on replica \(i) at \(seconds()) s") {
                                        try await c.post("/v1/follows", #"{"follower": "load-\#(i)-\#(n)", "followee": "u\#(n % 200)"}"#)
                                    }
                                    out.append(Outcome(replica: i, write: true, at: seconds(), status: w.status, code: w.error["code"] as? String,
                                                       message: w.error["message"] as? String))
                                    count += 1
                                    try await Task.sleep(for: .milliseconds(50))
                                }
                                return out
                            }
                        }
                        return try await group.reduce(into: []) { $0 += $1 }
                    }
                }
                var times: [String: Double] = [:]
                try await Task.sleep(for: .seconds(2))
                print("restart test: stopping the database at \(seconds()) s")
                try await pg.stop()
                times["down"] = seconds()
                // One write through each replica while the database is surely down, whatever the
                // load managed on a busy machine: each must be refused with 503.
                var probes: [Outcome] = []
                for (i, c) in clients.enumerated() {
                    let w = try await answered(within: .seconds(20), "probe write on replica \(i) at \(seconds()) s") {
                        try await c.post("/v1/follows", #"{"follower": "probe-\#(i)", "followee": "u1"}"#)
                    }
                    probes.append(Outcome(replica: i, write: true, at: seconds(), status: w.status, code: w.error["code"] as? String))
                }
                // Down longer than the store's lease timeout (3 s): a write that waits for a
                // connection from the start of the outage must give up before the database is back.
                let downFor = 5.0 - (seconds() - times["down"]!)
                if downFor > 0 { try await Task.sleep(for: .milliseconds(Int(downFor * 1_000))) }
                try await pg.start()
                times["up"] = seconds()
                print("restart test: database back at \(seconds()) s")
                // Both replicas write again by themselves, and a write through A reaches B.
                for (i, c) in clients.enumerated() {
                    while seconds() < times["up"]! + 30 {
                        let r = try await answered(within: .seconds(20), "write back-\(i) at \(seconds()) s") {
                            try await c.post("/v1/follows", #"{"follower": "back-\#(i)", "followee": "u1"}"#)
                        }
                        if r.status == 200 { break }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    times["write\(i)"] = seconds()
                }
                let written = seconds()
                while seconds() < written + 30 {
                    let r = try await answered(within: .seconds(20), "read back-0 at \(seconds()) s") { try await clients[1].get("/v1/users/back-0") }
                    if r.object["followees"] as? Int == 1 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                times["converged"] = seconds()
                print("restart test: converged at \(seconds()) s; stopping the load")
                await stop.set()
                let outcomes = try await load.value + probes
                print("restart test: load stopped at \(seconds()) s")
                for c in clients { #expect(try await c.get("/health").status == 200) }
                return (outcomes, times)
            }
        }
        await storeA.close()
        await storeB.close()
        let down = try #require(times["down"]), up = try #require(times["up"])
        let reads = outcomes.filter { !$0.write }, writes = outcomes.filter(\.write)
        #expect(reads.allSatisfy { $0.status == 200 }, "reads failed: \(reads.filter { $0.status != 200 }.prefix(5).map { "\($0.status) \($0.code ?? "")" })")
        let refused = writes.filter { $0.status != 200 }
        #expect(refused.count >= 2, "the two writes sent while the database was down were not both refused")
        #expect(refused.allSatisfy { $0.status == 503 && $0.code == "store_unavailable" },
                "writes refused otherwise: \(refused.filter { $0.status != 503 }.prefix(5).map { "\($0.status) \($0.code ?? "") \($0.message ?? "")" })")
        // Every refusal falls in the outage (plus the time a pooled connection takes to notice it is gone).
        #expect(refused.allSatisfy { $0.at >= down - 0.5 && $0.at <= up + 10 })
        let first503 = refused.map(\.at).min() ?? 0, last503 = refused.map(\.at).max() ?? 0
        #expect(times["write0"]! - up < 10 && times["write1"]! - up < 10, "\(times)")
        #expect(times["converged"]! - times["write1"]! < 10, "\(times)")
        print(String(format: "PostgreSQL restart under two replicas: database down %.1f s; %d reads, all 200; %d writes, %d refused with 503 "
                     + "over %.1f s (%.1f–%.1f s); writes back %.1f s (A) and %.1f s (B) after the restart; converged %.1f s after",
                     up - down, reads.count, writes.count, refused.count, last503 - first503, first503, last503,
                     times["write0"]! - up, times["write1"]! - up, times["converged"]! - times["write1"]!))
    }
}

/// A one-way flag shared by tasks.
actor Flag {
    private(set) var isSet = false
    func set() { isSet = true }
}

/// Raw TCP for clients that misbehave on purpose.
enum RawTCP {
    /// A connected socket to 127.0.0.1:`port`, or -1.
    static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return -1 }
        return fd
    }

    static func timeouts(_ fd: Int32, seconds: Int) {
        var t = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `bytes` unless the peer stops taking them; the bytes sent.
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        return sent
    }

    /// What the peer sends until it closes or goes quiet.
    static func receive(_ fd: Int32) -> String {
        var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65_536, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

@Suite(.testThreads) struct SlowClientTests {
    @Test func aThousandIdleConnectionsAndAHundredMegabyteBodyDoNotTakeTheServerDown() async throws {
        let f = try await ServerFixture.make(users: 100)
        defer { f.remove() }
        let idleSeconds = 8
        let server = try await ServeProcess.start(dir: f.dir, extra: ["--idle-seconds", "\(idleSeconds)"])
        defer { server.kill() }
        // The client drops a pooled connection after 2 s idle, well before the server's own
        // timeout: otherwise a request could be sent on a connection the server is closing as
        // idle (accepting the thousand connections below takes up to 15 s on a loaded machine),
        // and fail with remoteConnectionClosed, as a CI run did.
        try await withHTTPClient(idle: .seconds(2)) { client in
            try await server.waitUntilReady(client)
            // A thousand connections that never send a byte, and a hundred that stall mid-request.
            var idle: [Int32] = []
            defer { for fd in idle { close(fd) } }
            for i in 0..<1_100 {
                let fd = RawTCP.connect(port: server.port)
                try #require(fd >= 0, "connection \(i) was refused")
                if i >= 1_000 { RawTCP.send(fd, Array("POST /v1/follows HTTP/1.1\r\nHost: orbit\r\nContent-Le".utf8)) }
                idle.append(fd)
            }
            // The server accepts them as fast as the machine lets it: on a loaded one that takes a while.
            var held = 0
            let acceptDeadline = ContinuousClock.now + .seconds(15)
            repeat {
                try await Task.sleep(for: .milliseconds(100))
                held = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.process.processIdentifier)/fd").count) ?? 0
            } while held < 1_100 && ContinuousClock.now < acceptDeadline
            let accepted = ContinuousClock.now  // each connection's idle clock started at or before this
            #expect(held >= 1_100, "the server holds \(held) descriptors: it did not accept the idle connections")
            // Requests are still answered.
            for i in 0..<50 {
                let r = try await client.send(.GET, server.base + "/v1/users/u\(i)/follow-recommendations?k=5")
                #expect(r.status == 200)
            }
            // A 100 MB body is refused with 413 without being held in memory.
            let fd = RawTCP.connect(port: server.port)
            try #require(fd >= 0)
            RawTCP.timeouts(fd, seconds: 20)
            let size = 100 << 20
            RawTCP.send(fd, Array(("POST /v1/events HTTP/1.1\r\nHost: orbit\r\nAuthorization: Bearer \(ServerFixture.writeToken)\r\n"
                                   + "Content-Type: application/json\r\nContent-Length: \(size)\r\n\r\n").utf8))
            let chunk = [UInt8](repeating: 0x20, count: 1 << 20)
            var sent = 0
            for _ in 0..<100 {
                let n = RawTCP.send(fd, chunk)
                sent += n
                if n < chunk.count { break }
            }
            let answer = RawTCP.receive(fd)
            close(fd)
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
            let status = (try? String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            #expect(rssKiB > 0 && rssKiB < 400 * 1_024, "the server's resident memory is \(rssKiB) KiB after the 100 MB body")
            #expect(try await client.send(.GET, server.base + "/health").status == 200)
            #expect(try await client.send(.GET, server.base + "/v1/users/u1/follow-recommendations?k=5").status == 200)
            // Past the idle timeout the server has closed them all.
            try await Task.sleep(until: accepted + .seconds(idleSeconds + 2))
            let closed = idle.filter { fd in
                RawTCP.timeouts(fd, seconds: 1)
                var byte: UInt8 = 0
                return recv(fd, &byte, 1, 0) == 0
            }.count
            #expect(closed == idle.count, "\(idle.count - closed) idle connections still open after \(idleSeconds + 2) s")
            print("slow clients: \(idle.count) idle or stalled connections held (\(held) descriptors), 50 requests answered beside them; "
                + "a \(size >> 20) MB body got \(answer.prefix(12)) after \(sent >> 20) MB sent; server RSS \(rssKiB / 1_024) MiB; "
                + "\(closed) idle connections closed by the server after --idle-seconds \(idleSeconds)")
        }
        #expect(server.process.isRunning)
    }
}
