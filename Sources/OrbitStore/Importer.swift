import Foundation
import OrbitCore

/// What a data file holds and how it is laid out; `ImportFormat.detect` guesses from the name.
public enum ImportFormat: String, CaseIterable, Sendable, CustomStringConvertible {
    /// CSV with a header naming `uid,fid` and optionally `rank`, `created_at` (the reference's follows.csv).
    case follows
    /// Headerless `follower followee [created_at]`, separated by spaces or tabs; `#` starts a comment (SNAP).
    case edges
    /// NCF `.rating`: `user\titem\trating\ttimestamp`, imported as user→item follows.
    case rating
    /// Users: CSV `id,created_at,flags` or JSON Lines `{"id":…,"created_at":…,"flags":"inactive"}`.
    case users
    /// Blocks: CSV `uid,blocked[,created_at]`.
    case blocks
    /// Dismissed suggestions: CSV `uid,dismissed[,reason][,created_at]` (reason: not_interested,
    /// dont_know, spam, other; default not_interested).
    case dismissals
    /// Posts: CSV `id,author,created_at` or JSON Lines with the same keys.
    case posts
    /// Interactions: CSV `uid,post,kind,ts` or JSON Lines with the same keys.
    case interactions

    public var description: String { rawValue }

    /// Guesses the format from a file name such as `follows.csv`, `soc-Slashdot0902.txt.gz` or
    /// `ml-1m.train.rating`; nil when the name says nothing.
    public static func detect(path: String) -> ImportFormat? {
        var name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        for f in [ImportFormat.interactions, .posts, .users, .blocks, .dismissals, .follows] where name.hasPrefix(f.rawValue) {
            return f
        }
        if name.hasSuffix(".rating") { return .rating }
        if name.hasSuffix(".txt") || name.hasSuffix(".edgelist") || name.hasSuffix(".edges") || name.hasSuffix(".tsv") {
            return .edges
        }
        return nil
    }

    /// The format from the name or, when the name does not tell (`train.csv`), from the file's
    /// first line: a CSV header's column names or the keys of a first JSON Lines object.
    public static func detect(reading path: String) -> ImportFormat? {
        if let f = detect(path: path) { return f }
        guard var reader = try? LineReader(path: path),
              let first = try? reader.next({ line, _ in String(decoding: line, as: UTF8.self) })
        else { return nil }
        return sniff(firstLine: first)
    }

    /// The format a first line announces, if any: CSV headers `uid,fid` (follows), `uid,blocked`
    /// (blocks), `uid,post,kind` (interactions), `id,author` (posts), `id,…,flags` (users), or a
    /// JSON object with the same keys.
    public static func sniff(firstLine: String) -> ImportFormat? {
        let line = firstLine.trimmingCharacters(in: .whitespacesAndNewlines)
        var names: Set<String>
        if line.hasPrefix("{"), let data = line.data(using: .utf8),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            names = Set(object.keys.map { $0.lowercased() })
        } else {
            names = Set(line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        }
        if names.isSuperset(of: ["uid", "fid"]) { return .follows }
        if names.isSuperset(of: ["uid", "blocked"]) { return .blocks }
        if names.isSuperset(of: ["uid", "dismissed"]) { return .dismissals }
        if names.isSuperset(of: ["uid", "post", "kind"]) { return .interactions }
        if names.isSuperset(of: ["id", "author"]) { return .posts }
        if names.contains("id") && names.contains("flags") { return .users }
        return nil
    }
}

/// One file to import and how to read it.
public struct ImportSource: Sendable {
    public var path: String
    public var format: ImportFormat
    /// Read JSON Lines instead of CSV (users, posts, interactions); detected from `.jsonl`/`.ndjson`.
    public var jsonLines: Bool

    public init(path: String, format: ImportFormat, jsonLines: Bool? = nil) {
        self.path = path
        self.format = format
        let lower = path.lowercased()
        self.jsonLines = jsonLines ?? (lower.contains(".jsonl") || lower.contains(".ndjson"))
    }
}

/// How an import treats bad rows.
public struct ImportOptions: Sendable {
    /// Import the good rows and report the bad ones, instead of refusing the whole import.
    public var skipBadRows = false
    /// Prefix added to followee ids of `.rating` files, so items do not collide with users.
    public var followeePrefix = ""
    /// Bad rows kept verbatim in the report (all of them are counted).
    public var maxReportedErrors = 100

    public init(skipBadRows: Bool = false, followeePrefix: String = "", maxReportedErrors: Int = 100) {
        self.skipBadRows = skipBadRows
        self.followeePrefix = followeePrefix
        self.maxReportedErrors = maxReportedErrors
    }
}

/// What an import read and what it found wrong.
public struct ImportReport: Sendable, CustomStringConvertible {
    public var rowsRead = 0
    public var selfFollowsDropped = 0
    public var badRowCount = 0
    public var badRowsByCategory: [String: Int] = [:]
    /// The first `maxReportedErrors` bad rows.
    public var badRows: [RowError] = []

    public init() {}

    mutating func record(_ error: RowError, keep: Int) {
        badRowCount += 1
        badRowsByCategory[error.problem.category, default: 0] += 1
        if badRows.count < keep { badRows.append(error) }
    }

    public var description: String {
        var s = "\(rowsRead) rows read"
        if selfFollowsDropped > 0 { s += ", \(selfFollowsDropped) self-follows dropped (no signal)" }
        if badRowCount > 0 {
            let why = badRowsByCategory.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }
            s += ", \(badRowCount) bad rows (\(why.joined(separator: ", ")))"
        }
        return s
    }
}

/// The rows of one or more files, parsed, validated and mapped to dense indices, ready to write.
///
/// Parsing is independent of the database so every `Store` implementation imports the same way.
public struct ParsedImport: Sendable {
    /// The catalog after this import: existing ids plus the new ones it introduces.
    public var catalog: Catalog
    /// Users with index ≥ this are new; same for posts.
    public var firstNewUser: Int32
    public var firstNewPost: Int32

    public var follows = Snapshot.Columns()
    public var followRank: [Int32?] = []
    /// Explicit user rows (from a users file): index, created_at, flags.
    public var userRows: [(index: UserIndex, createdAt: Timestamp, flags: UserFlags)] = []
    public var newPosts: [Post] = []
    /// Reasons and times of the dismissals in `follows.dismissUser`/`dismissCandidate`.
    public var dismissalReason: [DismissalReason] = []
    public var dismissalTime: [Timestamp] = []
    public var report = ImportReport()

    public var newUserCount: Int { catalog.users.count - Int(firstNewUser) }
    public var newPostCount: Int { catalog.posts.count - Int(firstNewPost) }
}

/// Why an import was refused; nothing was written.
public enum ImportError: Error, CustomStringConvertible, Sendable {
    case badRows(ImportReport)
    case file(FileReadError)
    case unknownFormat(path: String)

    public var description: String {
        switch self {
        case .badRows(let report):
            var lines = report.badRows.map(\.description)
            if report.badRowCount > report.badRows.count {
                lines.append("… and \(report.badRowCount - report.badRows.count) more bad rows")
            }
            lines.append(
                "import refused: \(report.badRowCount) bad rows; nothing was written. Fix the rows, or pass --skip-bad-rows to import the good ones.")
            return lines.joined(separator: "\n")
        case .file(let e):
            return e.description
        case .unknownFormat(let path):
            return "\(path): cannot tell the format from the name or the first line; pass --format (one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")))."
        }
    }
}

/// Parses import files into a `ParsedImport` against the ids a store already has.
public struct Importer {
    public var options: ImportOptions
    /// Called now and then with (file index, fraction of that file read).
    public var progress: ((Int, Double) -> Void)?

    public init(options: ImportOptions = ImportOptions(), progress: ((Int, Double) -> Void)? = nil) {
        self.options = options
        self.progress = progress
    }

    /// Parses `sources` in order (posts before the interactions that refer to them).
    /// Throws `ImportError.badRows` when a row is bad and bad rows are not skipped.
    public func parse(_ sources: [ImportSource], existing: Catalog) throws(ImportError) -> ParsedImport {
        var out = ParsedImport(
            catalog: existing, firstNewUser: Int32(existing.users.count), firstNewPost: Int32(existing.posts.count))
        var ids = ImportIDs(existing)
        for (k, source) in sources.enumerated() {
            do {
                try parseFile(source, fileIndex: k, ids: &ids, into: &out)
            } catch let e as FileReadError {
                throw .file(e)
            } catch {
                throw .file(.corrupt(path: source.path, line: 0, reason: "\(error)"))
            }
        }
        if out.report.badRowCount > 0 && !options.skipBadRows { throw .badRows(out.report) }
        return out
    }

    /// Columns a CSV header may name, each with the names it accepts.
    struct Column {
        let names: [String]
        let required: Bool
        /// Parsed straight from bytes as an integer (rank, times).
        var numeric = false
        var label: String { names[0] }
    }

    private static func columns(for format: ImportFormat) -> [Column] {
        switch format {
        case .follows:
            [Column(names: ["uid", "follower"], required: true), Column(names: ["fid", "followee"], required: true),
             Column(names: ["rank"], required: false, numeric: true),
             Column(names: ["created_at", "ts", "timestamp"], required: false, numeric: true)]
        case .users:
            [Column(names: ["id", "uid", "user_id", "user"], required: true),
             Column(names: ["created_at", "ts"], required: false, numeric: true), Column(names: ["flags"], required: false)]
        case .blocks:
            [Column(names: ["uid", "user"], required: true), Column(names: ["blocked"], required: true),
             Column(names: ["created_at", "ts"], required: false, numeric: true)]
        case .dismissals:
            [Column(names: ["uid", "user"], required: true), Column(names: ["dismissed", "candidate"], required: true),
             Column(names: ["reason"], required: false), Column(names: ["created_at", "ts"], required: false, numeric: true)]
        case .posts:
            [Column(names: ["id", "post_id", "post"], required: true), Column(names: ["author", "uid"], required: true),
             Column(names: ["created_at", "ts"], required: false, numeric: true)]
        case .interactions:
            [Column(names: ["uid", "user"], required: true), Column(names: ["post", "post_id"], required: true),
             Column(names: ["kind"], required: true),
             Column(names: ["ts", "created_at", "timestamp"], required: true, numeric: true)]
        case .edges, .rating:
            []
        }
    }

    /// One row's values, whichever layout they came from.
    /// One row's values, whichever layout they came from. `span` points into the current line
    /// (valid only while the row is handled) so known ids are found without making Strings.
    private enum Value { case id(String), span(UnsafeBufferPointer<UInt8>), int(Int64), none }

    private func parseFile(_ source: ImportSource, fileIndex: Int, ids: inout ImportIDs, into out: inout ParsedImport) throws {
        var reader = try LineReader(path: source.path)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int) ?? 0
        let name = source.path
        let keep = options.maxReportedErrors
        let format = source.format
        let positional = format == .edges || format == .rating
        var splitter = FieldSplitter(style: positional ? .whitespace : .csv)
        let spec = Self.columns(for: format)
        var columnAt: [Int] = []  // spec column -> field position (-1 absent)
        var headerFields = 0
        var sawHeader = positional || source.jsonLines
        var values = [Value](repeating: .none, count: max(spec.count, 4))
        var lastProgress = 0

        while true {
            let more: Bool? = try reader.next { line, lineNo -> Bool in
                func bad(_ p: RowProblem) { out.report.record(RowError(file: name, line: lineNo, problem: p), keep: keep) }
                if line.isEmpty { return true }
                if positional, line[0] == UInt8(ascii: "#") || line[0] == UInt8(ascii: "%") { return true }

                if !sawHeader {
                    sawHeader = true
                    guard splitter.split(line) else { bad(.unterminatedQuote); return true }
                    var names: [String] = []
                    for k in 0..<splitter.count { names.append(splitter.string(k, in: line)?.lowercased() ?? "") }
                    columnAt = spec.map { col in names.firstIndex { col.names.contains($0) } ?? -1 }
                    headerFields = names.count
                    let missing = zip(spec, columnAt).filter { $0.0.required && $0.1 < 0 }
                    if !missing.isEmpty {
                        bad(.missingHeader(expected: spec.map(\.label).joined(separator: ",")))
                        return false  // without a header no row can be read
                    }
                    return true
                }
                out.report.rowsRead += 1

                // Gather the row's values by spec position.
                if source.jsonLines {
                    guard let v = Self.jsonValues(line, spec: spec, problem: bad) else { return true }
                    values = v
                } else if positional {
                    guard splitter.split(line) else { bad(.unterminatedQuote); return true }
                    let n = splitter.count
                    if format == .edges, n != 2 && n != 3 {
                        bad(.columnCount(expected: "2 or 3 (follower followee [created_at])", found: n)); return true
                    }
                    if format == .rating, n < 2 || n > 4 {
                        bad(.columnCount(expected: "2 to 4 (user item [rating] [timestamp])", found: n)); return true
                    }
                    for k in 0..<2 { values[k] = .span(splitter.span(k, in: line)) }
                    values[2] = .none
                    values[3] = .none
                    let tsField = format == .edges ? 2 : 3
                    if n > tsField {
                        guard let t = splitter.int(tsField, in: line) else {
                            bad(.notANumber(column: "created_at", value: splitter.string(tsField, in: line) ?? "?")); return true
                        }
                        values[3] = .int(t)
                    }
                } else {
                    guard splitter.split(line) else { bad(.unterminatedQuote); return true }
                    if splitter.count != headerFields {
                        bad(.columnCount(expected: "\(headerFields) (as the header)", found: splitter.count)); return true
                    }
                    for (k, at) in columnAt.enumerated() {
                        guard at >= 0 else { values[k] = .none; continue }
                        if spec[k].numeric, !splitter.isEmpty(at, in: line), let v = splitter.int(at, in: line) {
                            values[k] = .int(v)
                            continue
                        }
                        if splitter.isQuoted(at) {
                            guard let s = splitter.string(at, in: line) else { bad(.invalidUTF8); return true }
                            values[k] = .id(s)
                        } else {
                            values[k] = .span(splitter.span(at, in: line))
                        }
                    }
                }
                self.addRow(
                    format: format, values: values, spec: spec, at: RowError(file: name, line: lineNo, problem: .invalidUTF8),
                    ids: &ids, into: &out)
                return true
            }
            guard let more, more else { break }
            if let progress, reader.lineNumber - lastProgress >= 200_000, fileSize > 0 {
                lastProgress = reader.lineNumber
                progress(fileIndex, min(1, Double(reader.compressedOffset) / Double(fileSize)))
            }
        }
        if !sawHeader {  // an empty file: no header to read the rows by
            out.report.record(
                RowError(file: name, line: 1, problem: .missingHeader(expected: spec.map(\.label).joined(separator: ","))),
                keep: keep)
        }
        progress?(fileIndex, 1)
    }

    /// Turns the gathered values into rows of `out`, validating ids, numbers and times.
    private func addRow(
        format: ImportFormat, values: [Value], spec: [Column], at place: RowError, ids: inout ImportIDs,
        into out: inout ParsedImport
    ) {
        let keep = options.maxReportedErrors
        func bad(_ p: RowProblem) {
            var e = place
            e.problem = p
            out.report.record(e, keep: keep)
        }
        func label(_ k: Int) -> String { spec.isEmpty ? (k == 0 ? "follower" : "followee") : spec[k].label }
        /// Whether value `k` holds a non-empty id; reports an empty one.
        func present(_ k: Int) -> Bool {
            switch values[k] {
            case .span(let b) where !b.isEmpty: return true
            case .id(let s) where !s.isEmpty: return true
            default: bad(.emptyID(column: label(k))); return false
            }
        }
        func text(_ k: Int) -> String {
            switch values[k] {
            case .id(let s): return s
            case .span(let b): return String(decoding: b, as: UTF8.self)
            case .int(let v): return String(v)
            case .none: return ""
            }
        }
        /// Runs `body` on the id's bytes (with `prefix` in front when given).
        func withBytes<R>(_ k: Int, prefix: String = "", _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            if prefix.isEmpty, case .span(let b) = values[k] { return body(b) }
            var bytes = Array(prefix.utf8)
            switch values[k] {
            case .span(let b): bytes.append(contentsOf: b)
            case .id(let s): bytes.append(contentsOf: s.utf8)
            case .int(let v): bytes.append(contentsOf: String(v).utf8)
            case .none: break
            }
            return bytes.withUnsafeBufferPointer(body)
        }
        /// The user index of id `k`, creating the user when new; nil (reported) for invalid UTF-8.
        func user(_ k: Int, prefix: String = "") -> Int32? {
            withBytes(k, prefix: prefix) { b in
                let h = ByteIDTable.hash(b)
                if let i = ids.users.lookup(b, hash: h) { return i }
                guard let s = utf8String(b) else { bad(.invalidUTF8); return nil }
                ids.users.insertNew(b, hash: h)
                return out.catalog.users.intern(s).index
            }
        }
        func knownPost(_ k: Int) -> Int32? {
            withBytes(k) { b in ids.posts.lookup(b, hash: ByteIDTable.hash(b)) }
        }
        func sameID(_ a: Int, _ b: Int, prefixB: String) -> Bool {
            withBytes(a) { x in withBytes(b, prefix: prefixB) { y in x.elementsEqual(y) } }
        }
        // Optional integer; `.some(nil)` means absent, nil means a bad value (already reported).
        func int(_ k: Int, _ label: String) -> Int64?? {
            switch values[k] {
            case .none: return .some(nil)
            case .int(let v): return v
            case .id, .span:
                let s = text(k)
                if s.isEmpty { return .some(nil) }
                guard let v = Int64(s) else { bad(.notANumber(column: label, value: s)); return nil }
                return v
            }
        }
        func time(_ k: Int, _ label: String) -> Timestamp?? {
            guard let t = int(k, label) else { return nil }
            guard let v = t else { return .some(nil) }
            guard TimestampRange.contains(v) else { bad(.timestampOutOfRange(column: label, value: v)); return nil }
            return v
        }

        switch format {
        case .follows, .edges, .rating:
            guard present(0), present(1) else { return }
            let prefix = format == .rating ? options.followeePrefix : ""
            var rank: Int32?
            if format == .follows {
                guard let r = int(2, "rank") else { return }
                if let r {
                    guard let r32 = Int32(exactly: r) else { bad(.notANumber(column: "rank", value: String(r))); return }
                    rank = r32
                }
            }
            guard let t = time(3, "created_at") else { return }
            if sameID(0, 1, prefixB: prefix) { out.report.selfFollowsDropped += 1; return }
            guard let u = user(0), let v = user(1, prefix: prefix) else { return }
            out.follows.followFollower.append(u)
            out.follows.followFollowee.append(v)
            out.follows.followCreatedAt.append(t ?? 0)
            out.followRank.append(rank)

        case .users:
            guard present(0) else { return }
            guard let t = time(1, "created_at") else { return }
            var flags = UserFlags()
            switch values[2] {
            case .id, .span:
                let s = text(2)
                guard let f = UserFlags(names: s.contains("|") ? s.replacing("|", with: ",") : s) else { bad(.badFlags(s)); return }
                flags = f
            default: break
            }
            guard let u = user(0) else { return }
            out.userRows.append((u, t ?? 0, flags))

        case .blocks:
            guard present(0), present(1) else { return }
            guard time(2, "created_at") != nil else { return }
            if sameID(0, 1, prefixB: "") { out.report.selfFollowsDropped += 1; return }
            guard let u = user(0), let v = user(1) else { return }
            out.follows.blockUser.append(u)
            out.follows.blockBlocked.append(v)

        case .dismissals:
            guard present(0), present(1) else { return }
            var reason = DismissalReason.notInterested
            let r = text(2)
            if !r.isEmpty {
                guard let parsed = DismissalReason(name: r) else { bad(.badReason(r)); return }
                reason = parsed
            }
            guard let t = time(3, "created_at") else { return }
            if sameID(0, 1, prefixB: "") { out.report.selfFollowsDropped += 1; return }
            guard let u = user(0), let v = user(1) else { return }
            out.follows.dismissUser.append(u)
            out.follows.dismissCandidate.append(v)
            out.dismissalReason.append(reason)
            out.dismissalTime.append(t ?? 0)

        case .posts:
            guard present(0), present(1) else { return }
            guard let t = time(2, "created_at") else { return }
            if knownPost(0) != nil { return }  // idempotent: the first definition wins
            guard let author = user(1) else { return }
            let added: Int32? = withBytes(0) { b in
                guard let s = utf8String(b) else { bad(.invalidUTF8); return nil }
                ids.posts.insertNew(b, hash: ByteIDTable.hash(b))
                return out.catalog.posts.intern(s).index
            }
            guard let index = added else { return }
            out.newPosts.append(Post(index: index, author: author, createdAt: t ?? 0))

        case .interactions:
            guard present(0), present(1) else { return }
            let kindName = text(2)
            guard let kind = Interaction.Kind(name: kindName) else { bad(.unknownKind(kindName)); return }
            guard let t = time(3, "ts") else { return }
            guard let ts = t else { bad(.notANumber(column: "ts", value: "")); return }
            guard let post = knownPost(1) else { bad(.unknownPost(text(1))); return }
            guard let u = user(0) else { return }
            out.follows.append(Interaction(user: u, post: post, kind: kind, timestamp: ts))
        }
    }

    /// Reads one JSON object into spec-ordered values; strings and integers are both accepted as ids.
    private static func jsonValues(
        _ line: UnsafeBufferPointer<UInt8>, spec: [Column], problem: (RowProblem) -> Void
    ) -> [Value]? {
        guard String(validating: line, as: UTF8.self) != nil else { problem(.invalidUTF8); return nil }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(buffer: line))
        } catch {
            problem(.malformedJSON("not a JSON object")); return nil
        }
        guard let dict = object as? [String: Any] else { problem(.malformedJSON("expected an object")); return nil }
        var values = [Value](repeating: .none, count: max(spec.count, 4))
        for (k, col) in spec.enumerated() {
            guard let key = col.names.first(where: { dict[$0] != nil }), let raw = dict[key] else {
                if col.required { problem(.malformedJSON("missing key \"\(col.label)\"")); return nil }
                continue
            }
            switch raw {
            case let s as String: values[k] = .id(s)
            case let n as NSNumber:
                // Booleans and fractions are not ids or times.
                if String(cString: n.objCType) == "c" || n.doubleValue != n.doubleValue.rounded() {
                    problem(.notANumber(column: col.label, value: "\(n)")); return nil
                }
                guard let v = Int64(exactly: n.doubleValue) else {
                    problem(.notANumber(column: col.label, value: "\(n)")); return nil
                }
                values[k] = .id(String(v))
            case is NSNull: values[k] = .none
            default: problem(.malformedJSON("\"\(key)\" must be a string or a number")); return nil
            }
        }
        return values
    }
}
