import Foundation
import OrbitStore
import PostgresNIO

extension PostgresStore {
    /// Where the PostgreSQL server is and how to log in; built directly or from a
    /// `postgres://user:password@host:port/database?sslmode=disable` URL.
    public struct Configuration: Sendable, Hashable, CustomStringConvertible {
        public enum TLSMode: String, Sendable, Hashable {
            case disable, prefer, require
        }

        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        public var tls: TLSMode
        /// Upper bound of the connection pool; each replica holds at most this many server connections.
        public var maxConnections: Int
        /// About this many records per query when a snapshot is read (each query answers one row
        /// of arrays): bounds the memory of one answer on both sides.
        public var snapshotRowsPerRange = 500_000
        /// How long a request waits for a pooled connection before it answers that the database is
        /// unavailable: while the server is down the pool keeps retrying for a minute, and a write
        /// must not hang that long.
        public var leaseTimeout: Duration = .seconds(3)

        public init(
            host: String = "127.0.0.1", port: Int = 5432, user: String = "postgres", password: String? = nil,
            database: String = "postgres", tls: TLSMode = .disable, maxConnections: Int = 10
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.tls = tls
            self.maxConnections = maxConnections
        }

        /// Parses `postgres://` or `postgresql://` URLs. The user defaults to `postgres`, the port to
        /// 5432 and the database to the user's name, as `psql` does. Throws `StoreError.database`
        /// naming what is wrong.
        public init(url string: String) throws {
            func bad(_ why: String) -> StoreError {
                .database("bad PostgreSQL URL \"\(Self.redacted(string))\": \(why); expected postgres://user[:password]@host[:port]/database")
            }
            guard let url = URLComponents(string: string) else { throw bad("not a URL") }
            guard let scheme = url.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
                throw bad("the scheme must be postgres:// or postgresql://")
            }
            guard let host = url.host, !host.isEmpty else { throw bad("no host") }
            let user = url.user?.removingPercentEncoding ?? "postgres"
            var path = url.path
            if path.hasPrefix("/") { path.removeFirst() }
            guard !path.contains("/") else { throw bad("the path must be a single database name") }
            self.init(
                host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host,
                port: url.port ?? 5432, user: user, password: url.password?.removingPercentEncoding,
                database: path.isEmpty ? user : (path.removingPercentEncoding ?? path))
            for item in url.queryItems ?? [] {
                switch item.name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: item.value ?? "") else {
                        throw bad("sslmode must be disable, prefer or require")
                    }
                    tls = mode
                case "max_connections":
                    guard let n = Int(item.value ?? ""), n > 0 else { throw bad("max_connections must be a positive number") }
                    maxConnections = n
                default:
                    throw bad("unknown parameter \"\(item.name)\" (known: sslmode, max_connections)")
                }
            }
        }

        /// The URL without the password, for messages and logs.
        public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

        /// A copy that connects to another database on the same server.
        public func database(_ name: String) -> Configuration {
            var c = self
            c.database = name
            return c
        }

        static func redacted(_ url: String) -> String {
            guard var c = URLComponents(string: url), c.password != nil else { return url }
            c.password = "***"
            return c.string ?? url
        }

        var client: PostgresClient.Configuration {
            let tls: PostgresClient.Configuration.TLS = switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            var c = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
            c.options.maximumConnections = maxConnections
            c.options.connectTimeout = .seconds(5)
            return c
        }
    }
}
