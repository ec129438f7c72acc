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
        .database(String(cString: sqlite3_errmsg(db.sqliteConnection)) + " (code \(rc)) in \(statement.sql)")
    }
}

@inline(__always) func columnInt(_ s: OpaquePointer, _ i: Int32) -> Int64 { sqlite3_column_int64(s, i) }
@inline(__always) func columnText(_ s: OpaquePointer, _ i: Int32) -> String {
    guard let p = sqlite3_column_text(s, i) else { return "" }
    return String(cString: p)
}
