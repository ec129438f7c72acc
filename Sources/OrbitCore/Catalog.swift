/// The external ids of users and posts, by dense index: what turns indices back into names.
public struct Catalog: Sendable {
    public var users: IDMap
    public var posts: IDMap

    public init(users: IDMap = IDMap(), posts: IDMap = IDMap()) {
        self.users = users
        self.posts = posts
    }
}

/// A snapshot together with the catalog that names its indices.
public struct LoadedSnapshot: Sendable {
    public var snapshot: Snapshot
    public var catalog: Catalog

    public init(snapshot: Snapshot, catalog: Catalog) {
        self.snapshot = snapshot
        self.catalog = catalog
    }
}
