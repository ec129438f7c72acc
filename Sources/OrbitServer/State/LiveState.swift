import Foundation
import OrbitCore
import OrbitEngine
import OrbitRecommend
import Synchronization

/// External ids of users or posts created after the snapshot (indices from `base` on): a small
/// map beside the snapshot's catalog, so that learning one new id never copies the big one.
struct IDDelta: Sendable {
    let base: Int
    private(set) var ids: [String] = []
    private var index: [String: Int32] = [:]

    init(base: Int) { self.base = base }

    var end: Int { base + ids.count }

    func index(of id: String) -> Int32? { index[id] }

    func id(of i: Int32) -> String? {
        let k = Int(i) - base
        return k >= 0 && k < ids.count ? ids[k] : nil
    }

    mutating func append(_ id: String) {
        index[id] = Int32(end)
        ids.append(id)
    }
}

/// The state every request reads: the engine and the events since its snapshot.
struct LiveState: Sendable {
    var engine: Engine
    var overlay: Overlay
    var newUsers: IDDelta
    var newPosts: IDDelta
    /// A bulk import was seen in the change log: only a new snapshot reflects it.
    var needsRebuild = false

    init(engine: Engine) {
        self.engine = engine
        overlay = Overlay(snapshot: engine.snapshot)
        newUsers = IDDelta(base: engine.loaded.catalog.users.count)
        newPosts = IDDelta(base: engine.loaded.catalog.posts.count)
    }

    var view: LiveView { LiveView(snapshot: engine.snapshot, overlay: overlay) }

    func user(_ id: String) -> UserIndex? { engine.loaded.catalog.users.index(of: id) ?? newUsers.index(of: id) }
    func post(_ id: String) -> PostIndex? { engine.loaded.catalog.posts.index(of: id) ?? newPosts.index(of: id) }

    /// The external ids, for naming the items of an answer.
    var names: Names { Names(catalog: engine.loaded.catalog, newUsers: newUsers, newPosts: newPosts) }
}

/// External ids of users and posts (snapshot catalog plus those created since), taken out of a
/// `LiveState` once per answer. A class, so the closures that name each item retain one
/// reference instead of copying the whole state per item.
final class Names: Sendable {
    let catalog: Catalog
    let newUsers: IDDelta
    let newPosts: IDDelta

    init(catalog: Catalog, newUsers: IDDelta, newPosts: IDDelta) {
        self.catalog = catalog
        self.newUsers = newUsers
        self.newPosts = newPosts
    }

    func user(_ u: UserIndex) -> String {
        Int(u) < catalog.users.count ? catalog.users.externalID(of: u) : newUsers.id(of: u) ?? "#\(u)"
    }

    func post(_ p: PostIndex) -> String {
        Int(p) < catalog.posts.count ? catalog.posts.externalID(of: p) : newPosts.id(of: p) ?? "#\(p)"
    }
}

/// Holds the current `LiveState`. Readers copy it out under a lock held for a few nanoseconds
/// (copy-on-write values), so a swap never makes a request wait or fail.
final class StateBox: Sendable {
    private let box = Mutex<LiveState?>(nil)

    var current: LiveState? { box.withLock { $0 } }

    func replace(_ s: LiveState) { box.withLock { $0 = s } }
}
