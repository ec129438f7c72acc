import GRDB
import GRDBSQLite

/// A prepared statement driven through SQLite's C API: GRDB's typed arguments cost more than
/// the insert itself in bulk loads of millions of rows.
struct RawStatement {
    let statement: Statement
    let db: Database
    private var handle: OpaquePointer { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        statement = try db.makeStatement(sql: sql)
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }
    func bind(_ index: Int32, _ value: Int32?) {
        if let value { sqlite3_bind_int64(handle, index, Int64(value)) } else { sqlite3_bind_null(handle, index) }
    }
    func bind(_ index: Int32, _ value: String) {
        sqlite3_bind_text(handle, index, value, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
    }

    /// Runs an insert/update/delete; returns the number of rows it changed.
    @discardableResult
    func run() throws -> Int {
        defer { sqlite3_reset(handle) }
        let rc = sqlite3_step(handle)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc) }
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    /// Steps through a query, calling `row` for each result row.
    func forEach(_ row: (OpaquePointer) throws -> Void) throws {
        defer { sqlite3_reset(handle) }
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc) }
            try row(handle)
        }
    }

    func error(_ rc: Int32) -> StoreError {
        StoreError.sqlite(code: rc, message: String(cString: sqlite3_errmsg(db.sqliteConnection)) + " (code \(rc)) in \(statement.sql)")
    }
}

extension StoreError {
    /// The store error of an SQLite result code: a full disk or a busy file can pass (`unavailable`:
    /// retry later), a damaged file cannot (`damaged`), anything else is a `database` error.
    static func sqlite(code: Int32, message: String) -> StoreError {
        switch code & 0xFF {
        case SQLITE_FULL: .unavailable("the disk is full (\(message)); free space, then retry")
        case SQLITE_IOERR: .unavailable("the disk refused a read or write (\(message)); check free space and the file system")
        case SQLITE_BUSY, SQLITE_LOCKED: .unavailable("the database file is locked (\(message))")
        case SQLITE_CORRUPT, SQLITE_NOTADB: .damaged(message)
        default: .database(message)
        }
    }

    /// The store error of an error GRDB threw (its own kind keeps its code); others pass unchanged.
    static func mapping(_ error: any Error, path: String) -> any Error {
        guard let e = error as? DatabaseError else { return error }
        return StoreError.sqlite(code: e.extendedResultCode.rawValue, message: "\(path): \(e.message ?? e.description)")
    }
}

@inline(__always) func columnInt(_ s: OpaquePointer, _ i: Int32) -> Int64 { sqlite3_column_int64(s, i) }
@inline(__always) func columnText(_ s: OpaquePointer, _ i: Int32) -> String {
    guard let p = sqlite3_column_text(s, i) else { return "" }
    return String(cString: p)
}
