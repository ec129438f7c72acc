import Foundation
import Logging
import OrbitCore
import OrbitPostgres
import OrbitStore

/// Where a store lives, from `--store` or the server's `store` setting: a SQLite path or a
/// `postgres://` URL. Every command that reads or writes a store opens it through this type, so
/// every command works on both.
public struct StoreLocation: Sendable, CustomStringConvertible {
    /// The path or URL as given.
    public let value: String

    public init(_ value: String) { self.value = value }

    /// True for `postgres://` and `postgresql://` URLs.
    public var isPostgres: Bool { value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") }

    /// The location without its password, for logs and messages.
    public var redacted: String {
        guard isPostgres, let at = value.firstIndex(of: "@"), let scheme = value.range(of: "://") else { return value }
        let credentials = value[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return value }
        return String(value[..<colon]) + ":***" + String(value[at...])
    }

    public var description: String { redacted }

    /// An open store and how to close it.
    public struct Opened: Sendable {
        public let store: any Store
        public let location: StoreLocation
        let close: @Sendable () async -> Void

        /// Runs `body` with the store and closes it afterwards, also when `body` throws.
        public func using<T>(_ body: (any Store) async throws -> T) async throws -> T {
            do {
                let value = try await body(store)
                await close()
                return value
            } catch {
                await close()
                throw error
            }
        }
    }

    /// Opens the store. With `create` false a missing SQLite file is refused (`EngineError.noStore`)
    /// instead of made empty: a command that reads must not answer from a store that was never filled.
    /// `durability` applies to SQLite (PostgreSQL keeps its server's `synchronous_commit`, on by
    /// default, which Orbit never turns off).
    public func open(create: Bool = true, durability: Durability = .full, logger: Logger = Logger(label: "orbit.store")) async throws -> Opened {
        if isPostgres {
            let store = try await PostgresStore.open(url: value, logger: logger)
            return Opened(store: store, location: self, close: { await store.close() })
        }
        if !create && !FileManager.default.fileExists(atPath: value) { throw EngineError.noStore(path: value) }
        return Opened(store: try SQLiteStore(path: value, durability: durability), location: self, close: {})
    }

    /// Opens the store, reads its snapshot and closes it.
    public func loadSnapshot(logger: Logger = Logger(label: "orbit.store")) async throws -> LoadedSnapshot {
        try await open(create: false, logger: logger).using { try await $0.loadSnapshot() }
    }

    /// Opens the store, reads it as columns (the interaction log included) and closes it.
    public func loadColumns(logger: Logger = Logger(label: "orbit.store")) async throws -> (Snapshot.Columns, Catalog) {
        try await open(create: false, logger: logger).using { try await $0.loadColumns() }
    }
}
