/// Errors raised while building, training or fusing models.
public enum NeuMFError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidConfiguration(String)
    case invalidData(String)
    case incompatibleModels(String)
    /// Training of a `kind` model stopped because the mean loss of `epoch` (counted from 0, as
    /// in `EpochReport`) was not a finite number: the parameters had overflowed, so later
    /// epochs and any model taken from them would be meaningless. `learningRate` is the
    /// configured rate (`TrainingOptions.learningRate`).
    case diverged(kind: NeuMFKind, epoch: Int, loss: Double, learningRate: Float)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s): "invalid NeuMF configuration: \(s)"
        case .invalidData(let s): "invalid training data: \(s)"
        case .incompatibleModels(let s): "cannot fuse models: \(s)"
        case let .diverged(kind, epoch, loss, learningRate):
            "\(kind) training diverged: the mean loss of epoch \(epoch + 1) is \(loss) at learning rate \(learningRate), "
                + "so the parameters are no longer finite and training stopped. Try a lower learning rate "
                + "(for example \(learningRate / 10)), a learning-rate decay below 1 or a smaller embedding "
                + "learning-rate scale."
        }
    }
}

/// Errors raised while reading or writing a model file; each says what is wrong and what to do.
public enum ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    case ioFailure(path: String, operation: String, reason: String)
    case notAModelFile(path: String)
    case unsupportedVersion(path: String, found: UInt32, supported: UInt32)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    case checksumMismatch(path: String, stored: UInt64, computed: UInt64)
    case invalidConfiguration(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open model file \(path): \(reason). Check the path and permissions."
        case let .ioFailure(path, operation, reason):
            "\(operation) failed on model file \(path): \(reason). Check free disk space and permissions, then retry."
        case let .notAModelFile(path):
            "\(path) is not an Orbit NeuMF model file (bad magic). Pass a file written by `orbit train`."
        case let .unsupportedVersion(path, found, supported):
            "model file \(path) has format version \(found); this build reads version \(supported). Retrain the model or use a matching Orbit build."
        case let .truncated(path, expected, actual):
            "model file \(path) is truncated: \(actual) bytes, expected \(expected). The write was interrupted or the copy is incomplete; copy it again or retrain."
        case let .trailingBytes(path, expected, actual):
            "model file \(path) has \(actual) bytes, expected \(expected): unexpected trailing data. The file is damaged; copy it again or retrain."
        case let .checksumMismatch(path, stored, computed):
            "model file \(path) is corrupted: checksum \(String(computed, radix: 16)) does not match stored \(String(stored, radix: 16)). Copy it again or retrain."
        case let .invalidConfiguration(path, reason):
            "model file \(path) holds an invalid configuration (\(reason)). The file is damaged or from an incompatible writer; retrain."
        }
    }
}
