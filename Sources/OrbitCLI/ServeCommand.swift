import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import OrbitEngine
import OrbitServer
import OrbitStore
import OrbitStore

extension RetrainPlacement: ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve recommendations and ingest events over HTTP (JSON).",
        discussion: """
            Configuration comes from --config FILE (JSON, keys as in `orbit serve --print-config`), then the \
            environment, then these flags; each overrides the one before.

            Environment: \(ServerConfiguration.environmentVariables.map { "\($0.0) (\($0.1))" }.joined(separator: "; ")).

            Writes (POST /v1/events, /v1/follows, ...) and admin routes need "Authorization: Bearer <write token>". \
            With no write token configured, one is generated and logged at start. Reads are open unless read \
            tokens are configured. Every acknowledged write is on disk before the answer (with --durability full, \
            the default, it survives a power loss) and visible to the next request; the snapshot is rebuilt every --refresh-seconds and the follow and click models retrained every \
            --retrain-seconds (or on demand: POST /v1/admin/refresh?retrain=true), then swapped in without \
            pausing requests. Retraining runs in a child process (`orbit train all`) in the idle \
            scheduling class at niceness --retrain-nice, so that requests keep the cores. Several replicas can share one PostgreSQL store (--store postgres://...); each \
            polls the store's change log every --poll-seconds. SIGTERM or SIGINT: stop accepting, finish \
            in-flight requests, exit. Routes: GET /openapi.json.
            """)

    @Option(help: "JSON configuration file.") var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 8080; 0: any free port, printed at start).") var port: Int?
    @Option(help: "SQLite path or postgres://user[:password]@host[:port]/database (default orbit-data/orbit.sqlite).") var store: String?
    @Option(help: "Bearer token for writes and admin routes (repeatable; at least 16 characters).") var writeToken: [String] = []
    @Option(help: "Bearer token for reads (repeatable; none: reads are open).") var readToken: [String] = []
    @Option(help: "Follow model file (loaded when present; written on retraining).") var followModel: String?
    @Option(help: "Click model file (JSON; loaded when present).") var clickModel: String?
    @Option(help: "What an acknowledged SQLite write survives: full (a power loss too; the default) or normal (a process crash; faster small writes).")
    var durability: Durability?
    @Option(help: "Rebuild the snapshot every this many seconds (0: on demand only; default 600).") var refreshSeconds: Double?
    @Option(help: "Retrain the follow and click models every this many seconds (0: on demand only; default 0).") var retrainSeconds: Double?
    @Option(help: "Where retraining runs: process (a child `orbit train all` at --retrain-nice: requests keep the CPU, training's memory is returned; the default) or server (a thread of this process).")
    var retrainIn: RetrainPlacement?
    @Option(help: "CPU niceness of the retraining process, 0…19 (default 19).") var retrainNice: Int?
    @Option(help: "Retrain in Linux's idle scheduling class, true or false: it gets a core only when no request wants it (default true).")
    var retrainIdle: Bool?
    @Option(help: "CPU niceness of the thread that reads and builds a new snapshot, 0…19 (default 10).") var rebuildNice: Int?
    @Option(help: "Poll the store for other replicas' writes every this many seconds (0: never; default 1).") var pollSeconds: Double?
    @Option(help: "Edges read per graph-expansion step at most (latency against reach; default \(ServerConfiguration().expansionEdges)).") var expansionEdges: Int?
    @Option(help: "Close a connection idle for this many seconds (default 60).") var idleSeconds: Double?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Flag(help: "Print the effective configuration as JSON (tokens hidden) and exit.") var printConfig = false

    func effectiveConfiguration() throws -> ServerConfiguration {
        var c = try config.map { try ServerConfiguration.load(file: $0) } ?? ServerConfiguration()
        c = try c.applyingEnvironment(ProcessInfo.processInfo.environment)
        if let host { c.host = host }
        if let port { c.port = port }
        if let store { c.store = store }
        if !writeToken.isEmpty { c.writeTokens = writeToken }
        if !readToken.isEmpty { c.readTokens = readToken }
        if let followModel { c.followModel = followModel }
        if let clickModel { c.clickModel = clickModel }
        if let durability { c.durability = durability }
        if let refreshSeconds { c.refreshSeconds = refreshSeconds }
        if let retrainSeconds { c.retrainSeconds = retrainSeconds }
        if let retrainIn { c.retrainIn = retrainIn }
        if let retrainNice { c.retrainNice = retrainNice }
        if let rebuildNice { c.rebuildNice = rebuildNice }
        if let retrainIdle { c.retrainIdle = retrainIdle }
        if let pollSeconds { c.pollSeconds = pollSeconds }
        if let expansionEdges { c.expansionEdges = expansionEdges }
        if let idleSeconds { c.idleSeconds = idleSeconds }
        return try c.validated()
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var c: ServerConfiguration
        do { c = try effectiveConfiguration() } catch let e as ConfigurationError { throw ValidationError(e.description) }
        if printConfig {
            var shown = c
            shown.writeTokens = shown.writeTokens.map { _ in "<hidden>" }
            shown.readTokens = shown.readTokens.map { _ in "<hidden>" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(shown), as: UTF8.self))
            return
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "orbit")
        // Each rebuild allocates a new snapshot (arrays of hundreds of megabytes at a million users)
        // and frees the old one. glibc raises its mmap threshold as large blocks are freed, after
        // which such arrays come from the heap and their pages stay with the process: the resident
        // size ratchets up rebuild after rebuild. A fixed threshold keeps every block of 1 MiB or
        // more in its own mapping, returned to the system when it is freed.
        #if canImport(Glibc)
        // mallopt and M_MMAP_THRESHOLD (-3) are in <malloc.h>, which Swift's Glibc module leaves out.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            _ = unsafeBitCast(symbol, to: Mallopt.self)(-3, 1 << 20)
        }
        #endif
        // Every connection is a file descriptor: a server with a few thousand clients needs more
        // than the usual soft limit of 1024, and the hard limit is the administrator's choice.
        var limit = rlimit()
        if getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            let before = limit.rlim_cur
            limit.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 {
                logger.info("raised the open-file limit", metadata: ["from": "\(before)", "to": "\(limit.rlim_max)"])
            }
        }
        if c.writeTokens.isEmpty {
            let token = (0..<2).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }.joined()
            c.writeTokens = [token]
            logger.notice("no write token configured; generated one for this run", metadata: ["write_token": "\(token)"])
        }
        let opened = try await StoreLocation(c.store).open(create: true, durability: c.durability, logger: logger)
        // Retraining runs this same binary as `orbit train all` (retrainIn: process).
        let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        if c.retrainIn == .process && executable == nil {
            throw ValidationError("retrainIn is process, but this binary cannot find its own path (/proc/self/exe); set retrainIn to server")
        }
        let service = OrbitService(configuration: c, store: opened.store, logger: logger, executable: executable)
        let (host, where_) = (c.host, StoreLocation(c.store).redacted)
        let app = service.application { port in
            // Tests and scripts read this line to find a port chosen with --port 0.
            FileHandle.standardOutput.write(Data("orbit listening on \(host):\(port)\n".utf8))
            logger.notice("listening", metadata: ["address": "\(host):\(port)", "store": "\(where_)"])
        }
        try await opened.using { _ in try await app.runService() }
        logger.notice("stopped")
    }
}


/// `RLIMIT_NOFILE` as the type getrlimit takes on this platform.
#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
