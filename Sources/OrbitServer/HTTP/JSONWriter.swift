import Hummingbird

/// Writes the answers of the recommendation routes straight into a byte buffer. Foundation's
/// `JSONEncoder` builds a tree of boxed values per answer and was a tenth of the server's CPU at
/// a thousand requests a second; these answers are flat, so each writes itself field by field, in
/// the same bytes `JSONResponse.make` produces (sorted keys, unescaped slashes, the same number
/// forms; a test compares the two).
protocol JSONWritable: Encodable {
    func write(to w: inout JSONWriter)
}

struct JSONWriter {
    private(set) var buffer: ByteBuffer

    init(capacity: Int = 1_024) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    /// An object; `body` writes its members with `key(_:)` (in sorted order) and the value writers.
    mutating func object(_ body: (inout JSONWriter) -> Void) {
        buffer.writeInteger(UInt8(ascii: "{"))
        first = true
        body(&self)
        buffer.writeInteger(UInt8(ascii: "}"))
        first = false
    }

    mutating func array<S: Sequence>(_ items: S, _ each: (inout JSONWriter, S.Element) -> Void) {
        buffer.writeInteger(UInt8(ascii: "["))
        var start = true
        for item in items {
            if !start { buffer.writeInteger(UInt8(ascii: ",")) }
            start = false
            each(&self, item)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
        first = false
    }

    /// Whether the next key is the first of its object (no comma before it).
    private var first = false

    private mutating func separate() {
        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
        first = false
    }

    mutating func key(_ k: StaticString) {
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(k)
        buffer.writeStaticString("\":")
    }

    /// A key that is data (a dictionary's), escaped like any string.
    mutating func key(_ k: String) {
        separate()
        string(k)
        buffer.writeInteger(UInt8(ascii: ":"))
    }

    mutating func string(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<i]))
                start = i + 1
                switch b {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(b >> 4)])
                    buffer.writeInteger(hex[Int(b & 15)])
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    mutating func int(_ v: some BinaryInteger) { buffer.writeString(String(v)) }

    mutating func bool(_ v: Bool) { buffer.writeStaticString(v ? "true" : "false") }

    /// As `JSONResponse.make` writes a float: the shortest form that reads back, without a
    /// trailing ".0"; non-finite values as the strings "inf", "-inf" and "nan".
    mutating func float(_ v: Float) {
        if v.isNaN { string("nan"); return }
        if v.isInfinite { string(v < 0 ? "-inf" : "inf"); return }
        var text = v.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        buffer.writeString(text)
    }
}

extension JSONResponse {
    /// The fast path for the recommendation answers (see `JSONWriter`).
    static func make(_ value: some JSONWritable, status: HTTPResponse.Status = .ok) -> Response {
        var w = JSONWriter()
        value.write(to: &w)
        return response(w.buffer, status: status)
    }
}
