import OrbitCore

/// One write to the store, in the platform's external ids (what the API and importers speak).
public enum Event: Hashable, Sendable {
    case user(id: String, createdAt: Timestamp)
    case follow(follower: String, followee: String, at: Timestamp)
    case unfollow(follower: String, followee: String, at: Timestamp)
    case block(user: String, blocked: String, at: Timestamp)
    case unblock(user: String, blocked: String, at: Timestamp)
    case post(id: String, author: String, at: Timestamp)
    case interaction(user: String, post: String, kind: Interaction.Kind, at: Timestamp)
    case setFlags(user: String, flags: UserFlags, at: Timestamp)
    /// `user` dismissed the suggestion `candidate`: it is never suggested to `user` again.
    case dismiss(user: String, candidate: String, reason: DismissalReason, at: Timestamp)
    /// Undoes a dismissal.
    case undismiss(user: String, candidate: String, at: Timestamp)
    /// `user` was shown `candidate` as a suggestion on `surface` (a client-chosen name, such as "home").
    case impression(user: String, candidate: String, surface: String, at: Timestamp)
}

/// One change recorded by the store, in dense indices, as `changes(since:)` returns it.
public struct Change: Hashable, Sendable {
    /// What changed; raw values are stored on disk.
    public enum Operation: UInt8, Sendable {
        case user = 0, follow = 1, unfollow = 2, block = 3, unblock = 4, post = 5, interaction = 6, setFlags = 7
        /// A bulk import: too many rows to replay, so readers reload the snapshot.
        case bulkImport = 8
        /// Dismissal (detail: the reason), its undoing, and a suggestion shown.
        case dismiss = 9, undismiss = 10, impression = 11
    }

    public var version: Int64
    public var operation: Operation
    /// user, follower, blocker or author, by operation.
    public var a: Int32
    /// followee, blocked user or post, by operation.
    public var b: Int32
    /// interaction kind, user flags or dismissal reason.
    public var detail: UInt8
    public var timestamp: Timestamp

    public init(version: Int64, operation: Operation, a: Int32, b: Int32, detail: UInt8, timestamp: Timestamp) {
        self.version = version
        self.operation = operation
        self.a = a
        self.b = b
        self.detail = detail
        self.timestamp = timestamp
    }
}

/// What an import wrote.
public struct ImportSummary: Sendable, CustomStringConvertible {
    public var report: ImportReport
    public var newUsers = 0
    public var newPosts = 0
    public var followsAdded = 0
    public var followsAlreadyPresent = 0
    public var blocksAdded = 0
    public var dismissalsAdded = 0
    public var interactionsAdded = 0
    public var interactionsAlreadyPresent = 0
    public var usersUpdated = 0
    public var seconds = 0.0
    /// Of `seconds`: reading and validating the files, and writing to the database.
    public var parseSeconds = 0.0
    public var writeSeconds = 0.0
    public var version: Int64 = 0

    public init(report: ImportReport) { self.report = report }

    public var description: String {
        var parts = ["\(report.rowsRead) rows read"]
        if newUsers > 0 { parts.append("\(newUsers) new users") }
        if usersUpdated > 0 { parts.append("\(usersUpdated) user rows applied") }
        if newPosts > 0 { parts.append("\(newPosts) new posts") }
        if followsAdded + followsAlreadyPresent > 0 {
            parts.append("\(followsAdded) follows added (\(followsAlreadyPresent) already present)")
        }
        if blocksAdded > 0 { parts.append("\(blocksAdded) blocks added") }
        if dismissalsAdded > 0 { parts.append("\(dismissalsAdded) dismissals added") }
        if interactionsAdded + interactionsAlreadyPresent > 0 {
            parts.append("\(interactionsAdded) interactions added (\(interactionsAlreadyPresent) already present)")
        }
        if report.selfFollowsDropped > 0 { parts.append("\(report.selfFollowsDropped) self-follows dropped (no signal)") }
        if report.badRowCount > 0 {
            let why = report.badRowsByCategory.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }
            parts.append("\(report.badRowCount) bad rows skipped (\(why.joined(separator: ", ")))")
        }
        return parts.joined(separator: ", ")
    }
}

/// Row counts of the store.
public struct StoreCounts: Hashable, Sendable {
    public var users = 0, follows = 0, blocks = 0, posts = 0, interactions = 0, dismissals = 0, impressions = 0
    public var version: Int64 = 0
    public init() {}
}

/// Why the store refused a write or a read.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case unknownPost(String)
    case unknownUser(String)
    case emptyID(String)
    case timestampOutOfRange(Timestamp)
    case schemaTooNew(found: Int, supported: Int)
    /// The store's content contradicts itself (a gap in the ids, a row naming a user that does not
    /// exist): no retry helps; restore a backup or re-import.
    case damaged(String)
    /// The store cannot be reached now (the database server is down, a connection was lost, the
    /// file is locked past the timeout): retrying later may succeed. The message keeps the cause.
    case unavailable(String)
    /// Any other error the database reported, with its message.
    case database(String)

    public var description: String {
        switch self {
        case .unknownPost(let id): "unknown post \"\(id)\": create the post before recording interactions with it"
        case .unknownUser(let id): "unknown user \"\(id)\""
        case .emptyID(let what): "empty id for \(what)"
        case .timestampOutOfRange(let t):
            "timestamp \(t) is out of range (Unix seconds between 0 and \(TimestampRange.max))"
        case .schemaTooNew(let found, let supported):
            "the database was written by a newer Orbit (schema \(found), this build knows \(supported)); upgrade Orbit"
        case .damaged(let message): "the store is damaged: \(message); restore a backup or re-import the data"
        case .unavailable(let message): "the store is unavailable: \(message); retry when it is back"
        case .database(let message): "database error: \(message)"
        }
    }
}

/// A store that can read the whole snapshot on the calling thread, blocking it: a server rebuilds
/// this way on a thread of lower CPU priority, so that the read takes the time requests leave
/// rather than cores they need (SQLite reads run on the thread that asks; PostgreSQL's on its server).
public protocol BlockingSnapshotRead: Store {
    /// What `loadColumns` reads, in one read transaction on the calling thread.
    func loadColumnsBlocking() throws -> (Snapshot.Columns, Catalog)
}

/// The system of record: every write goes here; snapshots and models are derived from it.
///
/// Implementations (embedded SQLite, PostgreSQL) share the importers and answer the same
/// test suite, so callers never depend on which one they hold.
public protocol Store: Sendable {
    /// Imports files in one transaction: all rows or, on a bad row, none (unless skipping bad rows).
    func importFiles(
        _ sources: [ImportSource], options: ImportOptions, progress: (@Sendable (String) -> Void)?
    ) async throws -> ImportSummary

    /// Appends events atomically and returns the store version after them.
    @discardableResult
    func append(_ events: [Event]) async throws -> Int64

    /// Reads the whole store into an immutable snapshot and its catalog.
    func loadSnapshot() async throws -> LoadedSnapshot

    /// Reads the whole store as columns (the raw interaction log included, which the snapshot
    /// aggregates away): what training the click model needs.
    func loadColumns() async throws -> (Snapshot.Columns, Catalog)

    /// Changes recorded after `version`, oldest first, at most `limit`.
    func changes(since version: Int64, limit: Int) async throws -> [Change]

    /// The version of the latest change.
    func currentVersion() async throws -> Int64

    /// Row counts.
    func counts() async throws -> StoreCounts

    /// The external ids of the users with index ≥ `usersFrom` and the posts with index ≥
    /// `postsFrom`, in index order: how a server holding an older snapshot names new users and posts.
    func externalIDs(usersFrom: Int32, postsFrom: Int32) async throws -> (users: [String], posts: [String])
}

extension Overlay {
    /// Applies a change read from the store. Returns false for a bulk import, after which the
    /// caller must load a new snapshot instead.
    public mutating func apply(_ c: Change, snapshot: Snapshot) -> Bool {
        switch c.operation {
        case .user: addUser(c.a)
        case .follow: follow(c.a, c.b)
        case .unfollow: unfollow(c.a, c.b)
        case .block: block(c.a, c.b)
        case .unblock: unblock(c.a, c.b)
        case .dismiss: dismiss(c.a, c.b)
        case .undismiss: undismiss(c.a, c.b)
        case .impression: impression(c.a, shown: c.b, at: c.timestamp)
        case .setFlags: setFlags(c.a, UserFlags(rawValue: c.detail))
        case .post: addPost(c.b, author: c.a, createdAt: c.timestamp)
        case .interaction:
            let author = Int(c.b) < snapshot.postCount ? snapshot.postAuthor[Int(c.b)] : newPosts[c.b]?.author
            guard let author, let kind = Interaction.Kind(rawValue: c.detail) else { break }
            interact(c.a, post: c.b, author: author, kind: kind, at: c.timestamp)
        case .bulkImport:
            return false
        }
        markApplied(version: c.version)
        return true
    }
}
