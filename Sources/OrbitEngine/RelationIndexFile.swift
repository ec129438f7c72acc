import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import VectorIndex

/// The relation index on disk, beside its follow model: the HNSW graph at `<model>.relations`
/// and the follow edges its ids stand for at `<model>.relations.edges` (the graph the vectors were
/// computed on, which a later snapshot no longer matches position for position).
///
/// The edges file names the checksum of the model the vectors came from and the number of
/// vectors; a reader refuses a pair that does not match the model it serves. Writers go model
/// file, then HNSW, then edges, each atomically: a crash in between leaves an edges file naming
/// the old model, which is refused, never a silent mix.
public enum RelationIndexFile {
    static let magic = Array("ORBRELIX".utf8)
    static let version: UInt32 = 1

    /// The HNSW file of the model at `modelPath`.
    public static func indexPath(model modelPath: String) -> String { modelPath + ".relations" }
    /// The edges file of the model at `modelPath`.
    public static func edgesPath(model modelPath: String) -> String { modelPath + ".relations.edges" }

    /// Writes `index`, built from `model`, beside the model file.
    public static func write(_ index: RelationIndex, model: NeuMFModel, modelPath: String) throws(EngineError) {
        do { try index.index.save(to: indexPath(model: modelPath)) } catch {
            throw .unreadableFile(path: indexPath(model: modelPath), cause: "\(error)")
        }
        var data = Data(magic)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        put(version)
        put(UInt32(0))
        put(model.checksum)
        put(UInt64(index.index.count))
        put(UInt64(index.graph.rowCount))
        put(UInt64(index.graph.edgeCount))
        for o in index.graph.offsets { put(Int64(o)) }
        index.graph.targets.withUnsafeBytes { data.append(contentsOf: $0) }
        put(fnv(data))
        try AtomicFile.write(data, to: edgesPath(model: modelPath))
    }

    /// Removes a stale index of the model at `modelPath` (the model was retrained without one).
    public static func remove(model modelPath: String) {
        try? FileManager.default.removeItem(atPath: edgesPath(model: modelPath))
        try? FileManager.default.removeItem(atPath: indexPath(model: modelPath))
    }

    /// True when an index file exists beside the model.
    public static func exists(model modelPath: String) -> Bool {
        FileManager.default.fileExists(atPath: edgesPath(model: modelPath))
    }

    /// Reads the index of `model` from beside `modelPath`, refusing one that is damaged or was built
    /// for another model.
    public static func read(model: NeuMFModel, modelPath: String, ef: Int) throws(EngineError) -> RelationIndex {
        let path = edgesPath(model: modelPath)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableFile(path: path, cause: error.localizedDescription)
        }
        func refuse(_ why: String) -> EngineError { .unusableModel(path: path, reason: why) }
        let head = 8 + 4 + 4 + 8 * 4
        guard data.count >= head + 8, Array(data.prefix(8)) == magic else { throw refuse("not a relation-index edges file (or truncated)") }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
        }
        guard get(8, UInt32.self) == version else { throw refuse("format version \(get(8, UInt32.self)); this build reads \(version)") }
        let stored = get(data.count - 8, UInt64.self)
        guard fnv(data.prefix(data.count - 8)) == stored else { throw refuse("checksum mismatch: the file is damaged; retrain to rebuild it") }
        guard get(16, UInt64.self) == model.checksum else {
            throw refuse("built for another model (the model file was replaced after the index was written); retrain to rebuild it")
        }
        let count = Int(get(24, UInt64.self)), rows = Int(get(32, UInt64.self)), edges = Int(get(40, UInt64.self))
        guard count == edges, data.count == head + 8 * (rows + 1) + 4 * edges + 8 else { throw refuse("sizes do not add up") }
        let base = head + 8 * (rows + 1)
        var offsets = [Int](repeating: 0, count: rows + 1)
        var targets = [Int32](repeating: 0, count: edges)
        data.withUnsafeBytes { raw in
            for i in 0...rows { offsets[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: head + 8 * i, as: Int64.self))) }
            targets.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[base..<(base + 4 * edges)])) }
        }
        guard offsets.first == 0, offsets.last == edges, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw refuse("edge offsets are not a valid CSR")
        }
        guard targets.allSatisfy({ $0 >= 0 && Int($0) < max(rows, model.configuration.itemCount) }) else { throw refuse("an edge names a user outside the model") }
        let hnsw: HNSWIndex
        do { hnsw = try HNSWIndex.load(from: indexPath(model: modelPath)) } catch {
            throw .unusableModel(path: indexPath(model: modelPath), reason: "\(error)")
        }
        guard hnsw.count == count, hnsw.configuration.dimension == model.configuration.relationDimension else {
            throw .unusableModel(path: indexPath(model: modelPath), reason: "holds \(hnsw.count) vectors of dimension \(hnsw.configuration.dimension); the edges file and the model say \(count) of \(model.configuration.relationDimension): retrain to rebuild it")
        }
        return RelationIndex(index: hnsw, graph: CSR(offsets: offsets, targets: targets), ef: ef)
    }

    static func fnv<D: DataProtocol>(_ d: D) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in d { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
