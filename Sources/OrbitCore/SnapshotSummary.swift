/// Counts and distributions of a snapshot, for `orbit stats` and reports.
public struct SnapshotSummary: Sendable, CustomStringConvertible {
    public var users = 0, follows = 0, blocks = 0, posts = 0, interactions = 0
    public var flagged: [String: Int] = [:]
    /// Percentiles (50, 90, 99, max) of followees and followers per user.
    public var outDegree: [Int] = []
    public var inDegree: [Int] = []
    public var reciprocated = 0.0
    public var interactionsByKind: [Interaction.Kind: Int] = [:]
    public var bytes = 0
    /// Bytes of the follow graph alone (both CSR directions and follow times).
    public var graphBytes = 0

    public init(_ s: Snapshot) {
        users = s.userCount
        follows = s.followees.edgeCount
        blocks = s.blocks.edgeCount
        posts = s.postCount
        for (flag, name) in UserFlags.all {
            flagged[name] = s.userFlags.reduce(0) { $0 + ($1.contains(flag) ? 1 : 0) }
        }
        outDegree = Self.percentiles((0..<Int32(users)).map { s.followees.degree($0) })
        inDegree = Self.percentiles((0..<Int32(users)).map { s.followers.degree($0) })
        var mutual = 0
        for u in 0..<Int32(users) {
            for v in s.followees.row(u) where s.followees.contains(v, u) { mutual += 1 }
        }
        reciprocated = follows == 0 ? 0 : Double(mutual) / Double(follows)
        for kind in Interaction.Kind.allCases {
            var n = 0
            for p in 0..<s.postCount { n += Int(s.interactionCount(post: Int32(p), kind: kind)) }
            interactionsByKind[kind] = n
            interactions += n
        }
        bytes = s.byteCount
        graphBytes = s.followees.byteCount + s.followers.byteCount + s.followedAt.count * 8
    }

    static func percentiles(_ values: [Int]) -> [Int] {
        guard !values.isEmpty else { return [0, 0, 0, 0] }
        let v = values.sorted()
        func at(_ q: Double) -> Int { v[min(v.count - 1, Int(q * Double(v.count)))] }
        return [at(0.5), at(0.9), at(0.99), v.last!]
    }

    public var description: String {
        func pct(_ n: Int, _ d: Int) -> String {
            d == 0 ? "0%" : String(Int((Double(n) * 1000 / Double(d)).rounded())) .withDecimal + "%"
        }
        var lines = [
            "users         \(users)  (flagged: \(UserFlags.all.map { "\(flagged[$0.1] ?? 0) \($0.1)" }.joined(separator: ", ")))",
            "follows       \(follows)  (reciprocated \(pct(Int(reciprocated * Double(follows)), follows)))",
            "  followees per user  p50 \(outDegree[0])  p90 \(outDegree[1])  p99 \(outDegree[2])  max \(outDegree[3])",
            "  followers per user  p50 \(inDegree[0])  p90 \(inDegree[1])  p99 \(inDegree[2])  max \(inDegree[3])",
            "blocks        \(blocks)",
            "posts         \(posts)",
            "interactions  \(interactions)",
        ]
        let mix = Interaction.Kind.allCases.map { "\($0.name) \(interactionsByKind[$0] ?? 0) (\(pct(interactionsByKind[$0] ?? 0, interactions)))" }
        lines.append("  engagement mix  " + mix.joined(separator: ", "))
        lines.append("snapshot      \(bytes / 1024) KiB in memory"
            + (follows > 0 ? String(format1: Double(graphBytes) / Double(follows)).map { "; follow graph \($0) bytes per follow" } ?? "" : ""))
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// "123" (tenths) → "12.3".
    fileprivate var withDecimal: String {
        let n = Int(self) ?? 0
        return "\(n / 10).\(n % 10)"
    }

    fileprivate init?(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
