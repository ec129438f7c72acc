/// Parsers for the NCF repository's text files (`.rating`, train pairs, `.negative`).
///
/// Fields are separated by tabs or spaces; empty lines and lines starting with `#` are skipped.
/// Line numbers in errors are 1-based. Reading `.gz` files is left to the caller.
public enum NCFFiles {
    /// `user item [rating timestamp ...]` lines (extra columns ignored).
    public static func parsePairs(_ text: String) throws(EvalError) -> PairList {
        var text = text
        var out = PairList()
        var failure: EvalError?
        text.withUTF8 { bytes in
            failure = forEachLine(bytes) { (lineNo: Int, line: UnsafeBufferPointer<UInt8>) throws(EvalError) in
                try parsePairLine(line, lineNo, &out)
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Same as `parsePairs(_:)` over a sequence of lines (e.g. from a gzip reader).
    public static func parsePairs<S: Sequence>(lines: S) throws(EvalError) -> PairList where S.Element: StringProtocol {
        var out = PairList()
        var n = 0
        for line in lines {
            n += 1
            var s = String(line)
            let r = s.withUTF8 { b -> EvalError? in
                do throws(EvalError) { try parsePairLine(b, n, &out); return nil } catch { return error }
            }
            if let r { throw r }
        }
        return out
    }

    /// `(user,item)\tneg1\tneg2...` lines as leave-one-out cases.
    public static func parseNegatives(_ text: String) throws(EvalError) -> [LeaveOneOutCase] {
        var text = text
        var out: [LeaveOneOutCase] = []
        var failure: EvalError?
        text.withUTF8 { bytes in
            failure = forEachLine(bytes) { (lineNo: Int, line: UnsafeBufferPointer<UInt8>) throws(EvalError) in
                try parseNegativeLine(line, lineNo, &out)
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Same as `parseNegatives(_:)` over a sequence of lines.
    public static func parseNegatives<S: Sequence>(lines: S) throws(EvalError) -> [LeaveOneOutCase] where S.Element: StringProtocol {
        var out: [LeaveOneOutCase] = []
        var n = 0
        for line in lines {
            n += 1
            var s = String(line)
            let r = s.withUTF8 { b -> EvalError? in
                do throws(EvalError) { try parseNegativeLine(b, n, &out); return nil } catch { return error }
            }
            if let r { throw r }
        }
        return out
    }

    static func forEachLine(_ bytes: UnsafeBufferPointer<UInt8>,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws(EvalError) -> Void) -> EvalError? {
        var start = 0, lineNo = 0
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != 10 { end += 1 }
            lineNo += 1
            do {
                try body(lineNo, UnsafeBufferPointer(rebasing: bytes[start..<end]))
            } catch {
                return error
            }
            start = end + 1
        }
        return nil
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 9 || c == 32 || c == 13 }

    static func skipLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var k = 0
        while k < line.count && isSpace(line[k]) { k += 1 }
        return k == line.count || line[k] == 35 // '#'
    }

    /// Parses a non-negative integer at `pos`, advancing past it.
    static func integer(_ line: UnsafeBufferPointer<UInt8>, _ pos: inout Int) -> Int32? {
        var v: Int64 = 0
        let start = pos
        while pos < line.count, line[pos] >= 48, line[pos] <= 57 {
            v = v * 10 + Int64(line[pos] - 48)
            if v > Int64(Int32.max) { return nil }
            pos += 1
        }
        return pos > start ? Int32(v) : nil
    }

    static func text(_ line: UnsafeBufferPointer<UInt8>) -> String { String(decoding: line, as: UTF8.self) }

    static func parsePairLine(_ line: UnsafeBufferPointer<UInt8>, _ n: Int, _ out: inout PairList) throws(EvalError) {
        if skipLine(line) { return }
        var pos = 0
        while pos < line.count && isSpace(line[pos]) { pos += 1 }
        guard let u = integer(line, &pos) else {
            throw .malformedLine(line: n, content: text(line), reason: "expected a non-negative user index")
        }
        guard pos < line.count && isSpace(line[pos]) else {
            throw .malformedLine(line: n, content: text(line), reason: "expected a separator after the user")
        }
        while pos < line.count && isSpace(line[pos]) { pos += 1 }
        guard let i = integer(line, &pos) else {
            throw .malformedLine(line: n, content: text(line), reason: "expected a non-negative item index")
        }
        guard pos == line.count || isSpace(line[pos]) else {
            throw .malformedLine(line: n, content: text(line), reason: "unexpected character after the item")
        }
        out.append(u, i)
    }

    static func parseNegativeLine(_ line: UnsafeBufferPointer<UInt8>, _ n: Int, _ out: inout [LeaveOneOutCase]) throws(EvalError) {
        if skipLine(line) { return }
        var pos = 0
        while pos < line.count && isSpace(line[pos]) { pos += 1 }
        guard pos < line.count && line[pos] == 40 else { // '('
            throw .malformedLine(line: n, content: text(line), reason: "expected \"(user,item)\" first")
        }
        pos += 1
        guard let u = integer(line, &pos), pos < line.count, line[pos] == 44 else { // ','
            throw .malformedLine(line: n, content: text(line), reason: "expected \"(user,item)\" first")
        }
        pos += 1
        guard let i = integer(line, &pos), pos < line.count, line[pos] == 41 else { // ')'
            throw .malformedLine(line: n, content: text(line), reason: "expected \"(user,item)\" first")
        }
        pos += 1
        var negs: [Int32] = []
        while true {
            while pos < line.count && isSpace(line[pos]) { pos += 1 }
            if pos == line.count { break }
            guard let v = integer(line, &pos), pos == line.count || isSpace(line[pos]) else {
                throw .malformedLine(line: n, content: text(line), reason: "expected a negative item index")
            }
            negs.append(v)
        }
        out.append(LeaveOneOutCase(user: u, heldOut: i, negatives: negs))
    }
}
