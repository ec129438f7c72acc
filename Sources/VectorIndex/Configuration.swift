/// How two vectors are compared; in both cases a higher score means more similar.
public enum VectorMetric: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// Raw dot product (maximum inner-product search).
    case innerProduct = 1
    /// Cosine similarity: vectors are normalised to unit length at insert and query time, then compared by dot product.
    case cosine = 2

    public var description: String {
        switch self {
        case .innerProduct: "inner product"
        case .cosine: "cosine"
        }
    }
}

/// Shape and construction parameters of an HNSW index (Malkov & Yashunin, arXiv 1603.09320).
public struct HNSWConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Number of floats per vector.
    public var dimension: Int
    public var metric: VectorMetric
    /// Links per node on the upper layers; layer 0 keeps up to `2 * m`.
    public var m: Int
    /// Width of the candidate list while inserting; larger builds slower and searches better.
    public var efConstruction: Int
    /// Seed of the level draw, so that a single-threaded build is reproducible bit for bit.
    public var seed: UInt64

    public init(dimension: Int, metric: VectorMetric = .cosine, m: Int = 16, efConstruction: Int = 100,
                seed: UInt64 = 0x5EED_0F_0B17) {
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
    }

    public var description: String {
        "HNSW(d=\(dimension), \(metric), M=\(m), efConstruction=\(efConstruction), seed=\(seed))"
    }

    /// Throws when a parameter is outside what the index supports.
    public func validate() throws(VectorIndexError) {
        // 4096 keeps the padded per-vector stride and the file header's fields far from overflow.
        guard (1...4096).contains(dimension) else {
            throw .invalidConfiguration("dimension \(dimension) is outside 1...4096")
        }
        // Level 0 holds 2*m links plus a count in one Int32 block; beyond 256 the heuristic gets quadratic.
        guard (2...256).contains(m) else { throw .invalidConfiguration("m \(m) is outside 2...256") }
        guard (1...100_000).contains(efConstruction) else {
            throw .invalidConfiguration("efConstruction \(efConstruction) is outside 1...100000")
        }
    }

    /// Floats per stored vector: the dimension rounded up to a multiple of 8 so that kernels need no scalar tail.
    var stride: Int { (dimension + 7) & ~7 }
    /// Capacity of a layer-0 neighbour list.
    var maxM0: Int { 2 * m }
}

/// One search result: the vector's id (its insertion position) and its similarity score to the query.
public struct VectorHit: Sendable, Hashable, CustomStringConvertible {
    public var id: Int32
    /// Dot product (inner-product metric) or cosine similarity (cosine metric); higher is closer.
    public var score: Float

    public init(id: Int32, score: Float) {
        self.id = id
        self.score = score
    }

    public var description: String { "\(id):\(score)" }
}

/// Errors raised when building or growing an index from bad parameters or bad input.
public enum VectorIndexError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidConfiguration(String)
    case invalidInput(String)
    case capacityExceeded(requested: Int, limit: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s):
            "invalid HNSW configuration: \(s). Fix the parameter and rebuild."
        case .invalidInput(let s):
            "invalid vectors for the index: \(s)."
        case let .capacityExceeded(requested, limit):
            "an HNSW index holds at most \(limit) vectors (ids are Int32); \(requested) were requested. Shard the data over several indexes."
        }
    }
}

/// Errors raised while saving or loading an index file; each says what is wrong and what to do.
public enum VectorIndexFileError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    case ioFailure(path: String, operation: String, reason: String)
    case notAnIndexFile(path: String)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    case checksumMismatch(path: String, stored: UInt64, computed: UInt64)
    case invalidContents(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open vector index file \(path): \(reason). Check the path and permissions."
        case let .ioFailure(path, operation, reason):
            "\(operation) failed on vector index file \(path): \(reason). Check free disk space and permissions, then retry."
        case let .notAnIndexFile(path):
            "\(path) is not an Orbit HNSW index file (bad magic). Pass a file written by HNSWIndex.save(to:)."
        case let .unsupportedVersion(path, found, supported):
            "vector index file \(path) has format version \(found); this build reads version \(supported). Rebuild the index with this build."
        case let .truncated(path, expected, actual):
            "vector index file \(path) is truncated: \(actual) bytes, expected \(expected). The write was interrupted or the copy is incomplete; copy it again or rebuild the index."
        case let .trailingBytes(path, expected, actual):
            "vector index file \(path) has \(actual) bytes, expected \(expected): unexpected trailing data. The file is damaged; copy it again or rebuild the index."
        case let .checksumMismatch(path, stored, computed):
            "vector index file \(path) is corrupted: checksum \(String(computed, radix: 16)) does not match stored \(String(stored, radix: 16)). Copy it again or rebuild the index."
        case let .invalidContents(path, reason):
            "vector index file \(path) is inconsistent (\(reason)). The file is damaged or from an incompatible writer; rebuild the index."
        }
    }
}
