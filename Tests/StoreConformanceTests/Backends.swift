import Foundation
import OrbitCore
import OrbitPostgres
import OrbitStore
import StoreTestSupport
import Synchronization
import Testing

/// The store implementations every test here runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let environment = ProcessInfo.processInfo.environment
    /// A server to create throwaway databases on, e.g. postgres://postgres@127.0.0.1:54329/postgres.
    static let postgresURL = environment["ORBIT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Set by scripts/test.sh (and so CI): a missing server fails instead of skipping.
    static let postgresRequired = environment["ORBIT_REQUIRE_POSTGRES"] == "1"
    static let skipMessage = "PostgreSQL cases skipped: ORBIT_TEST_POSTGRES_URL is unset; run scripts/test.sh, which starts a throwaway server"

    /// The backends to run: PostgreSQL only when a server is given (or required, to fail loudly).
    static var available: [Backend] { postgresURL != nil || postgresRequired ? allCases : [.sqlite] }
}

/// A fresh, empty store of one backend: a temporary SQLite file, or a PostgreSQL database of its
/// own. `open()` makes further instances on the same data, as replicas or a restarted process would.
final class StoreFixture: Sendable {
    let backend: Backend
    let dir = TempDir()
    private let server: PostgresStore.Configuration?
    private let database: String
    private let opened = Mutex<[PostgresStore]>([])

    private init(_ backend: Backend, server: PostgresStore.Configuration?, database: String) {
        self.backend = backend
        self.server = server
        self.database = database
    }

    static func make(_ backend: Backend) async throws -> StoreFixture {
        guard backend == .postgres else { return StoreFixture(backend, server: nil, database: "") }
        guard let url = Backend.postgresURL else {
            throw StoreError.database("ORBIT_REQUIRE_POSTGRES=1 but ORBIT_TEST_POSTGRES_URL is unset; run scripts/test.sh")
        }
        let server = try PostgresStore.Configuration(url: url)
        let name = "orbit_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await PostgresStore.createDatabase(name, server: server)
        return StoreFixture(backend, server: server, database: name)
    }

    /// A new store instance on this fixture's data.
    func open() async throws -> any Store {
        guard let server else { return try SQLiteStore(path: dir.path + "/s.sqlite") }
        // Small read ranges, so every snapshot load in the suite spans many of them.
        var configuration = server.database(database).forTests
        configuration.snapshotRowsPerRange = 7
        let store = try await PostgresStore.open(configuration)
        opened.withLock { $0.append(store) }
        return store
    }

    func remove() async {
        for store in opened.withLock({ $0 }) { await store.close() }
        if let server { try? await PostgresStore.dropDatabase(database, server: server) }
        dir.remove()
    }
}

/// Runs `body` with a fresh store of `backend` and removes it afterwards, also when `body` throws.
func withStore(_ backend: Backend, _ body: (any Store, StoreFixture) async throws -> Void) async throws {
    let fixture = try await StoreFixture.make(backend)
    do {
        try await body(try await fixture.open(), fixture)
    } catch {
        await fixture.remove()
        throw error
    }
    await fixture.remove()
}
