import OrbitPostgres

extension PostgresStore.Configuration {
    /// This configuration with a lease timeout of 30 s instead of the service's 3 s. The service's
    /// bound answers a write quickly while the database is down; in the suite, where dozens of tests
    /// and a PostgreSQL server share two cores, a new connection can take longer than 3 s with
    /// nothing down. Tests of an outage keep the service's bound.
    public var forTests: Self {
        var c = self
        c.leaseTimeout = .seconds(30)
        return c
    }
}
