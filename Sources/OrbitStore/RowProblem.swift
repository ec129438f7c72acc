import OrbitCore

/// What is wrong with one input row; `category` groups rows in import summaries.
public enum RowProblem: Hashable, Sendable, CustomStringConvertible {
    case columnCount(expected: String, found: Int)
    case notANumber(column: String, value: String)
    case emptyID(column: String)
    case unknownKind(String)
    case timestampOutOfRange(column: String, value: Int64)
    case invalidUTF8
    case unknownPost(String)
    case unterminatedQuote
    case malformedJSON(String)
    case badFlags(String)
    case badReason(String)
    case missingHeader(expected: String)

    public var description: String {
        switch self {
        case .columnCount(let expected, let found):
            "wrong column count: expected \(expected), found \(found)"
        case .notANumber(let column, let value):
            "\(column) is not a number: \(Self.quote(value))"
        case .emptyID(let column):
            "empty id in column \(column)"
        case .unknownKind(let value):
            "unknown interaction kind \(Self.quote(value)) (expected one of \(Interaction.Kind.allCases.map(\.name).joined(separator: ", ")))"
        case .timestampOutOfRange(let column, let value):
            "\(column) \(value) is out of range (expected Unix seconds between 0 and \(TimestampRange.max), i.e. before 2100)"
        case .invalidUTF8:
            "invalid UTF-8"
        case .unknownPost(let id):
            "unknown post \(Self.quote(id)) (import the post before its interactions)"
        case .unterminatedQuote:
            "unterminated quoted field"
        case .malformedJSON(let reason):
            "malformed JSON: \(reason)"
        case .badFlags(let value):
            "unknown user flag in \(Self.quote(value)) (expected \(UserFlags.all.map(\.1).joined(separator: ", ")), comma- or |-separated)"
        case .badReason(let value):
            "unknown dismissal reason \(Self.quote(value)) (expected one of \(DismissalReason.allCases.map(\.name).joined(separator: ", ")))"
        case .missingHeader(let expected):
            "missing header: expected \(expected)"
        }
    }

    /// A short name for the kind of problem, used to count skipped rows.
    public var category: String {
        switch self {
        case .columnCount: "wrong column count"
        case .notANumber: "not a number"
        case .emptyID: "empty id"
        case .unknownKind: "unknown interaction kind"
        case .timestampOutOfRange: "timestamp out of range"
        case .invalidUTF8: "invalid UTF-8"
        case .unknownPost: "unknown post"
        case .unterminatedQuote: "unterminated quote"
        case .malformedJSON: "malformed JSON"
        case .badFlags: "unknown flag"
        case .badReason: "unknown dismissal reason"
        case .missingHeader: "missing header"
        }
    }

    static func quote(_ s: String) -> String {
        let cut = s.count > 40 ? String(s.prefix(40)) + "…" : s
        return "\"\(cut)\""
    }
}

/// A bad row: where it is and why, printed as `file:line: reason`.
public struct RowError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var problem: RowProblem

    public init(file: String, line: Int, problem: RowProblem) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(file):\(line): \(problem)" }
}

/// The accepted range of timestamps: Unix seconds from 1970 up to 2100-01-01.
public enum TimestampRange {
    public static let max: Int64 = 4_102_444_800
    public static func contains(_ t: Int64) -> Bool { t >= 0 && t <= max }
}
