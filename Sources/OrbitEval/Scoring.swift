import NeuMF

/// Anything that scores candidate items for a user (a model or a baseline); higher is better.
///
/// Classification metrics threshold the scores at 0.5, so scorers used there should return
/// probabilities; ranking metrics only use the order.
public protocol RecommendationScorer: Sendable {
    /// Writes one score per item of `items` into `scores` (same count).
    func score(user: Int32, items: UnsafeBufferPointer<Int32>, into scores: UnsafeMutableBufferPointer<Float>)
}

/// Adapts a closure `(user, items) -> scores` to `RecommendationScorer`, for baselines and tests.
public struct ClosureScorer: RecommendationScorer {
    let body: @Sendable (Int32, [Int32]) -> [Float]

    public init(_ body: @escaping @Sendable (Int32, [Int32]) -> [Float]) { self.body = body }

    public func score(user: Int32, items: UnsafeBufferPointer<Int32>, into scores: UnsafeMutableBufferPointer<Float>) {
        let s = body(user, Array(items))
        precondition(s.count == items.count, "scorer returned \(s.count) scores for \(items.count) items")
        for k in 0..<s.count { scores[k] = s[k] }
    }
}

extension NeuMFScorer: RecommendationScorer {
    /// Probabilities, single-threaded per call (evaluation parallelises across users).
    public func score(user: Int32, items: UnsafeBufferPointer<Int32>, into scores: UnsafeMutableBufferPointer<Float>) {
        score(user: user, candidates: items, into: scores, output: .probability, threads: 1)
    }
}

/// Errors of the evaluation helpers and parsers.
public enum EvalError: Error, CustomStringConvertible, Equatable, Sendable {
    case malformedLine(line: Int, content: String, reason: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .malformedLine(line, content, reason):
            "line \(line): \(reason) in \"\(content.prefix(80))\". Fix or remove the line and retry."
        case let .invalidInput(s):
            "invalid evaluation input: \(s)"
        }
    }
}
