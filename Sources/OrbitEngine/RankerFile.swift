import Foundation
import OrbitRecommend
import Ranking

/// The ranking stage on disk, beside the follow model at `<model>.ranker`: a versioned header
/// naming the features (in column order) and the serving settings, XGBoost's model (JSON), and a
/// checksum. A reader refuses a damaged file, another version, or a feature set this build does
/// not compute, with a message that says to retrain.
public enum RankerFile {
    static let magic = Array("ORBRANKR".utf8)
    /// Format version this build writes and reads.
    public static let version: UInt32 = 1

    struct Header: Codable {
        var features: [String]
        var perSource: Int
        var engagedFirst: Bool
        var parameters: RankerParameters
    }

    public static func path(model modelPath: String) -> String { modelPath + ".ranker" }

    public static func exists(model modelPath: String) -> Bool { FileManager.default.fileExists(atPath: path(model: modelPath)) }

    public static func remove(model modelPath: String) { try? FileManager.default.removeItem(atPath: path(model: modelPath)) }

    /// Writes `ranker` atomically.
    public static func write(_ ranker: FollowRanker, parameters: RankerParameters, to path: String) throws(EngineError) {
        let header: Data
        let model: [UInt8]
        do {
            header = try JSONEncoder().encode(Header(features: ranker.model.featureNames, perSource: ranker.perSource,
                                                     engagedFirst: ranker.engagedFirst, parameters: parameters))
            model = try ranker.model.modelBytes()
        } catch {
            throw .unreadableFile(path: path, cause: "cannot encode the ranker: \(error)")
        }
        var data = Data(magic)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        put(version)
        put(UInt32(header.count))
        data.append(header)
        put(UInt64(model.count))
        data.append(contentsOf: model)
        put(RelationIndexFile.fnv(data))
        try AtomicFile.write(data, to: path)
    }

    /// Reads a ranker written by `write`.
    public static func read(from path: String) throws(EngineError) -> (FollowRanker, RankerParameters) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableFile(path: path, cause: error.localizedDescription)
        }
        func refuse(_ why: String) -> EngineError { .unusableModel(path: path, reason: why) }
        guard data.count >= 8 + 4 + 4 + 8 + 8, Array(data.prefix(8)) == magic else { throw refuse("not a ranker file (or truncated)") }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
        }
        guard get(data.count - 8, UInt64.self) == RelationIndexFile.fnv(data.prefix(data.count - 8)) else {
            throw refuse("checksum mismatch: the file is damaged; retrain to rebuild it")
        }
        let v = get(8, UInt32.self)
        guard v == version else { throw refuse("format version \(v); this build reads \(version): retrain the ranker") }
        let hn = Int(get(12, UInt32.self))
        guard 16 + hn + 8 <= data.count - 8 else { throw refuse("sizes do not add up") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + hn))) } catch {
            throw refuse("unreadable header: \(error)")
        }
        let mn = Int(get(16 + hn, UInt64.self))
        guard 16 + hn + 8 + mn == data.count - 8 else { throw refuse("sizes do not add up") }
        let bytes = Array(data[(16 + hn + 8)..<(16 + hn + 8 + mn)])
        do {
            let model = try GradientBoostedRanker.load(bytes, featureNames: header.features)
            return (try FollowRanker(model: model, perSource: header.perSource, engagedFirst: header.engagedFirst), header.parameters)
        } catch {
            throw refuse("\(error)")
        }
    }
}
