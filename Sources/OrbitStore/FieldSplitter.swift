/// Splits one line into fields without allocating: CSV (with RFC 4180 quotes) or whitespace-separated.
struct FieldSplitter {
    enum Style { case csv, whitespace }

    let style: Style
    /// Byte ranges of the fields of the last split line; `quoted` marks fields that need unescaping.
    private(set) var ranges: [Range<Int>] = []
    private(set) var quoted: [Bool] = []

    init(style: Style) {
        self.style = style
        ranges.reserveCapacity(8)
        quoted.reserveCapacity(8)
    }

    var count: Int { ranges.count }

    /// Splits `line`; returns false on an unterminated quote.
    mutating func split(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        ranges.removeAll(keepingCapacity: true)
        quoted.removeAll(keepingCapacity: true)
        switch style {
        case .whitespace:
            var i = 0
            let n = line.count
            while i < n {
                while i < n, line[i] == 32 || line[i] == 9 { i += 1 }
                if i == n { break }
                let s = i
                while i < n, line[i] != 32, line[i] != 9 { i += 1 }
                ranges.append(s..<i)
                quoted.append(false)
            }
            return true
        case .csv:
            var i = 0
            let n = line.count
            while true {
                if i < n, line[i] == 34 {  // quoted field: runs to the closing quote, "" escapes one
                    var j = i + 1
                    var closed = false
                    while j < n {
                        if line[j] == 34 {
                            if j + 1 < n, line[j + 1] == 34 { j += 2; continue }
                            closed = true
                            break
                        }
                        j += 1
                    }
                    if !closed { return false }
                    ranges.append((i + 1)..<j)
                    quoted.append(true)
                    i = j + 1
                    while i < n, line[i] != 44 { i += 1 }  // tolerate spaces after the quote
                } else {
                    let s = i
                    while i < n, line[i] != 44 { i += 1 }
                    ranges.append(s..<i)
                    quoted.append(false)
                }
                if i >= n { break }
                i += 1  // skip the comma
            }
            return true
        }
    }

    /// The field as a String, or nil when it is not valid UTF-8. CSV fields lose surrounding
    /// spaces (trimmed on bytes: trimming Characters costs more than the rest of the parse).
    func string(_ k: Int, in line: UnsafeBufferPointer<UInt8>) -> String? {
        var r = ranges[k]
        if style == .csv && !quoted[k] {
            while !r.isEmpty, line[r.lowerBound] == 32 || line[r.lowerBound] == 9 { r = (r.lowerBound + 1)..<r.upperBound }
            while !r.isEmpty, line[r.upperBound - 1] == 32 || line[r.upperBound - 1] == 9 { r = r.lowerBound..<(r.upperBound - 1) }
        }
        guard let s = utf8String(UnsafeBufferPointer(rebasing: line[r])) else { return nil }
        return quoted[k] ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    /// The field's bytes, without surrounding spaces for CSV.
    func span(_ k: Int, in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var r = ranges[k]
        if style == .csv {
            while !r.isEmpty, line[r.lowerBound] == 32 || line[r.lowerBound] == 9 { r = (r.lowerBound + 1)..<r.upperBound }
            while !r.isEmpty, line[r.upperBound - 1] == 32 || line[r.upperBound - 1] == 9 { r = r.lowerBound..<(r.upperBound - 1) }
        }
        return UnsafeBufferPointer(rebasing: line[r])
    }

    func isQuoted(_ k: Int) -> Bool { quoted[k] }

    /// The field as a signed integer, or nil when it is not one (spaces around it are allowed).
    func int(_ k: Int, in line: UnsafeBufferPointer<UInt8>) -> Int64? {
        var r = ranges[k]
        while !r.isEmpty, line[r.lowerBound] == 32 { r = (r.lowerBound + 1)..<r.upperBound }
        while !r.isEmpty, line[r.upperBound - 1] == 32 { r = r.lowerBound..<(r.upperBound - 1) }
        guard !r.isEmpty, r.count <= 19 else { return nil }
        var i = r.lowerBound
        var negative = false
        if line[i] == 45 { negative = true; i += 1 } else if line[i] == 43 { i += 1 }
        guard i < r.upperBound else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            let d = line[i] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -v : v
    }

    func isEmpty(_ k: Int, in line: UnsafeBufferPointer<UInt8>) -> Bool {
        ranges[k].allSatisfy { line[$0] == 32 || line[$0] == 9 }
    }
}

/// A String from bytes, or nil when they are not valid UTF-8. ASCII (the common case for ids)
/// skips the generic validating initialiser, whose metadata lookups cost more than the copy.
@inline(__always)
func utf8String(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    var ascii = true
    for b in bytes where b >= 0x80 { ascii = false; break }
    if ascii { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}
