import OrbitCore

/// An `Event` checked and mapped to dense indices: what a store writes. Resolving is shared so
/// every `Store` accepts and refuses exactly the same events and numbers new ids the same way.
public enum ResolvedEvent: Hashable, Sendable {
    case newUser(UserIndex, id: String, at: Timestamp)
    case follow(UserIndex, UserIndex, at: Timestamp)
    case unfollow(UserIndex, UserIndex, at: Timestamp)
    case block(UserIndex, UserIndex, at: Timestamp)
    case unblock(UserIndex, UserIndex, at: Timestamp)
    case newPost(PostIndex, id: String, author: UserIndex, at: Timestamp)
    case interaction(UserIndex, PostIndex, Interaction.Kind, at: Timestamp)
    case setFlags(UserIndex, UserFlags, at: Timestamp)
    case dismiss(UserIndex, UserIndex, DismissalReason, at: Timestamp)
    case undismiss(UserIndex, UserIndex, at: Timestamp)
    case impression(UserIndex, UserIndex, surface: String, at: Timestamp)
}

extension Catalog {
    /// Validates `events` in order and interns their new ids, returning the writes they ask for.
    /// Throws (`StoreError`) on the first bad event; the caller then drops this catalog and
    /// writes nothing. Self-follows and self-blocks carry no signal and resolve to nothing.
    public mutating func resolve(_ events: [Event]) throws(StoreError) -> [ResolvedEvent] {
        var out: [ResolvedEvent] = []
        out.reserveCapacity(events.count)
        func user(_ id: String, at t: Timestamp) throws(StoreError) -> UserIndex {
            guard !id.isEmpty else { throw .emptyID("user") }
            let (index, isNew) = users.intern(id)
            if isNew { out.append(.newUser(index, id: id, at: t)) }
            return index
        }
        for event in events {
            let t = event.timestamp
            guard TimestampRange.contains(t) else { throw .timestampOutOfRange(t) }
            switch event {
            case .user(let id, _):
                _ = try user(id, at: t)
            case .follow(let a, let b, _), .unfollow(let a, let b, _), .block(let a, let b, _), .unblock(let a, let b, _):
                guard a != b else { continue }
                let u = try user(a, at: t), v = try user(b, at: t)
                switch event {
                case .follow: out.append(.follow(u, v, at: t))
                case .unfollow: out.append(.unfollow(u, v, at: t))
                case .block: out.append(.block(u, v, at: t))
                default: out.append(.unblock(u, v, at: t))
                }
            case .post(let id, let author, _):
                guard !id.isEmpty else { throw .emptyID("post") }
                let a = try user(author, at: t)
                let (index, isNew) = posts.intern(id)
                if isNew { out.append(.newPost(index, id: id, author: a, at: t)) }
            case .interaction(let u0, let p, let kind, _):
                guard let post = posts.index(of: p) else { throw .unknownPost(p) }
                out.append(.interaction(try user(u0, at: t), post, kind, at: t))
            case .setFlags(let id, let flags, _):
                out.append(.setFlags(try user(id, at: t), flags, at: t))
            case .dismiss(let a, let b, let reason, _):
                guard a != b else { continue }
                out.append(.dismiss(try user(a, at: t), try user(b, at: t), reason, at: t))
            case .undismiss(let a, let b, _):
                guard a != b else { continue }
                out.append(.undismiss(try user(a, at: t), try user(b, at: t), at: t))
            case .impression(let a, let b, let surface, _):
                guard a != b else { continue }
                out.append(.impression(try user(a, at: t), try user(b, at: t), surface: surface, at: t))
            }
        }
        return out
    }
}

extension Event {
    public var timestamp: Timestamp {
        switch self {
        case .user(_, let t), .follow(_, _, let t), .unfollow(_, _, let t), .block(_, _, let t), .unblock(_, _, let t),
            .post(_, _, let t), .interaction(_, _, _, let t), .setFlags(_, _, let t), .dismiss(_, _, _, let t), .undismiss(_, _, let t),
            .impression(_, _, _, let t):
            t
        }
    }
}
