import Foundation
import OrbitPostgres
import OrbitStore
import Testing
import TestThreads

/// What only the PostgreSQL store has: its URL, its connection errors, its lifecycle.
@Suite(.testThreads) struct PostgresTests {
    @Test func urlsParseWithPsqlDefaults() throws {
        let full = try PostgresStore.Configuration(url: "postgresql://ann:s%40cret@db.example:6543/orbit?sslmode=require&max_connections=4")
        #expect(full.host == "db.example" && full.port == 6543 && full.user == "ann" && full.password == "s@cret")
        #expect(full.database == "orbit" && full.tls == .require && full.maxConnections == 4)
        #expect(full.description == "postgres://ann@db.example:6543/orbit")  // no password in messages

        let short = try PostgresStore.Configuration(url: "postgres://127.0.0.1")
        #expect(short.user == "postgres" && short.port == 5432 && short.database == "postgres" && short.tls == .disable)
        #expect(try PostgresStore.Configuration(url: "postgres://bob@[::1]:5/").host == "::1")
        #expect(try PostgresStore.Configuration(url: "postgres://bob@h/").database == "bob")
    }

    @Test(arguments: [
        ("mysql://h/db", "scheme"), ("postgres:///db", "no host"), ("postgres://h/a/b", "single database"),
        ("postgres://h/db?sslmode=maybe", "sslmode"), ("postgres://h/db?pool=3", "unknown parameter"),
        ("postgres://u:pw@h/db?x=1", "u:***@h"),
    ])
    func badURLsSayWhatIsWrong(_ url: String, _ mention: String) {
        #expect {
            try PostgresStore.Configuration(url: url)
        } throws: { error in
            guard case StoreError.database(let message) = error else { return false }
            return message.contains(mention) && !message.contains(":pw@")
        }
    }

    /// A server that is not there is named, with what to do. (`open` tries one direct connection,
    /// so this fails at once rather than after the pool's minute of retries; the time is not
    /// asserted because the rest of the suite keeps both cores busy.)
    @Test func connectionRefusedNamesTheServer() async throws {
        await #expect {
            _ = try await PostgresStore.open(url: "postgres://postgres@127.0.0.1:1/orbit")
        } throws: { error in
            // Unavailable, not damaged: a server that is down is a reason to retry later (503 over HTTP).
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains("127.0.0.1:1") && message.contains("must be running")
        }
    }

    @Test(.enabled(if: Backend.postgresURL != nil || Backend.postgresRequired, Comment(rawValue: Backend.skipMessage)))
    func aMissingDatabaseAndAClosedStoreAreExplained() async throws {
        let server = try PostgresStore.Configuration(url: try #require(Backend.postgresURL))
        await #expect {
            _ = try await PostgresStore.open(server.database("orbit_no_such_db"))
        } throws: { error in
            "\(error)".contains("orbit_no_such_db") && "\(error)".contains("create the database")
        }
        try await withStore(.postgres) { store, _ async throws in
            let store = try #require(store as? PostgresStore)
            try await store.append([.user(id: "a", createdAt: 1)])
            await store.close()
            await store.close()  // twice is harmless
            await #expect {
                _ = try await store.counts()
            } throws: { error in
                "\(error)".contains("closed")
            }
        }
    }
}
