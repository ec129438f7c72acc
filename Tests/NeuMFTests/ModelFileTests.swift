import Foundation
import Testing
@testable import NeuMF
import TestThreads

func tempPath(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "neumf-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/" + name
}

@Test(.testThreads, arguments: [NeuMFKind.gmf, .mlp, .neumf])
func modelFileRoundTripIsBitExact(kind: NeuMFKind) throws {
    let config = NeuMFConfiguration(kind: kind, factors: 5, layers: [10, 7, 3], userCount: 11, itemCount: 13)
    var model = try NeuMFModel(configuration: config, seed: 3)
    model.parameters[0] = .leastNonzeroMagnitude
    model.parameters[1] = -0.0
    let path = tempPath("roundtrip-\(kind).nmf")
    try model.save(to: path)
    let back = try NeuMFModel.load(from: path)
    #expect(back.configuration == config)
    #expect(back.parameters.map(\.bitPattern) == model.parameters.map(\.bitPattern))
    // No temporary file is left next to the model.
    let dir = (path as NSString).deletingLastPathComponent
    // Only this case's file: the other cases of this test write theirs concurrently.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasPrefix("roundtrip-\(kind).nmf.tmp-") })
}

@Test(.testThreads) func damagedModelFilesAreRefusedWithTheRightError() throws {
    let config = NeuMFConfiguration(kind: .neumf, factors: 4, layers: [8, 4], userCount: 5, itemCount: 6)
    let model = try NeuMFModel(configuration: config, seed: 1)
    let path = tempPath("damaged.nmf")
    try model.save(to: path)
    let good = try Data(contentsOf: URL(fileURLWithPath: path))

    func expectError(_ bytes: Data, _ check: (ModelFileError) -> Bool) throws {
        let p = tempPath("bad.nmf")
        try bytes.write(to: URL(fileURLWithPath: p))
        do {
            _ = try NeuMFModel.load(from: p)
            Issue.record("damaged file was accepted")
        } catch {
            #expect(check(error), "unexpected error \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    try expectError(good.prefix(good.count - 1)) { if case .truncated = $0 { true } else { false } }
    try expectError(good.prefix(good.count / 2)) { if case .truncated = $0 { true } else { false } }
    try expectError(good.prefix(10)) { if case .truncated = $0 { true } else { false } }
    try expectError(good + Data([0])) { if case .trailingBytes = $0 { true } else { false } }
    var flipped = good
    flipped[good.count / 2] ^= 0x10
    try expectError(flipped) { if case .checksumMismatch = $0 { true } else { false } }
    var badMagic = good
    badMagic[0] = 0x58
    try expectError(badMagic) { if case .notAModelFile = $0 { true } else { false } }
    var badVersion = good
    badVersion[8] = 9
    try expectError(badVersion) { if case .unsupportedVersion(_, 9, 1) = $0 { true } else { false } }
    var badKind = good
    badKind[16] = 77
    try expectError(badKind) { if case .invalidConfiguration = $0 { true } else { false } }

    #expect(throws: ModelFileError.self) { try NeuMFModel.load(from: tempPath("missing.nmf")) }
    do {
        _ = try NeuMFModel.load(from: tempPath("missing.nmf"))
    } catch {
        if case .cannotOpen = error {} else { Issue.record("expected cannotOpen, got \(error)") }
    }
}
