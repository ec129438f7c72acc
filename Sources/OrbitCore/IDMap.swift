/// Maps external string ids to dense indices and back.
///
/// Indices are assigned in order of first appearance and never change: the store persists the
/// map, so a user keeps its index across restarts and re-imports.
public struct IDMap: Sendable {
    private var indexOf: [String: Int32]
    public private(set) var externalIDs: [String]

    public init() {
        indexOf = [:]
        externalIDs = []
    }

    /// Rebuilds a map from ids listed in index order (as the store keeps them).
    public init(externalIDs: [String]) {
        self.externalIDs = externalIDs
        indexOf = Dictionary(minimumCapacity: externalIDs.count)
        for (i, id) in externalIDs.enumerated() { indexOf[id] = Int32(i) }
    }

    public var count: Int { externalIDs.count }

    public func index(of id: String) -> Int32? { indexOf[id] }

    public func externalID(of index: Int32) -> String { externalIDs[Int(index)] }

    /// The index of `id`, assigning the next free one when `id` is new.
    public mutating func intern(_ id: String) -> (index: Int32, isNew: Bool) {
        if let i = indexOf[id] { return (i, false) }
        let i = Int32(externalIDs.count)
        indexOf[id] = i
        externalIDs.append(id)
        return (i, true)
    }

    public mutating func reserveCapacity(_ n: Int) {
        indexOf.reserveCapacity(n)
        externalIDs.reserveCapacity(n)
    }
}
