import Foundation
import NeuMF
import OrbitCore
import VectorIndex

/// The complex logic's vector index: the relation vector of every follow edge in an HNSW graph
/// (cosine), with edge ids equal to positions in the snapshot's followee CSR.
public struct RelationIndex: EdgeIndex {
    public let index: HNSWIndex
    public let graph: CSR
    /// Search breadth; higher finds more of the true nearest edges, slower.
    public var ef: Int

    /// Computes the relation vectors of all `graph` edges with `scorer` and indexes them.
    public init(graph: CSR, scorer: any PairScorer, ef: Int = 64, m: Int = 16, efConstruction: Int = 100, threads: Int = 0) throws {
        let d = scorer.relationDimension
        var vectors = [Float](repeating: 0, count: graph.edgeCount * d)
        // Row by row: the scorer computes one user's relation vectors in one call.
        for u in 0..<Int32(graph.rowCount) {
            let r = graph.range(u)
            guard !r.isEmpty else { continue }
            let v = scorer.relationVectors(user: u, items: Array(graph.targets[r]))
            vectors.replaceSubrange((r.lowerBound * d)..<(r.upperBound * d), with: v)
        }
        let config = HNSWConfiguration(dimension: d, metric: .cosine, m: m, efConstruction: efConstruction)
        index = try HNSWIndex(vectors: vectors, configuration: config, threads: threads)
        self.graph = graph
        self.ef = ef
    }

    public init(index: HNSWIndex, graph: CSR, ef: Int = 64) {
        self.index = index
        self.graph = graph
        self.ef = ef
    }

    public func nearestEdges(to vector: [Float], n: Int) -> [Int] {
        index.search(vector, k: n, ef: max(ef, n)).map { Int($0.id) }
    }

    public func edge(_ id: Int) -> (follower: UserIndex, followee: UserIndex) {
        // The follower is the row whose offset range holds `id`.
        var lo = 0, hi = graph.rowCount
        while lo < hi {
            let mid = (lo + hi) >> 1
            if graph.offsets[mid + 1] <= id { lo = mid + 1 } else { hi = mid }
        }
        return (UserIndex(lo), graph.targets[id])
    }
}
