/// The outcome of a statement: its rows (if any) copied into Swift values,
/// and the number of rows it affected.
///
/// A result is a collection of ``PostgresRow``s:
///
/// ```swift
/// let result = try await connection.query("SELECT id, name FROM runs WHERE state = $1", ["running"])
/// for row in result { print(row["id"].string!, row["name"].string ?? "-") }
/// ```
public struct PostgresResult: Sendable, RandomAccessCollection {
    /// The column names, in order (empty for statements that return no rows).
    public let columns: [String]
    /// The rows, in the order the server sent them.
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, copied or selected, from the command tag
    /// (0 when the command reports no count).
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 3` or `CREATE TABLE`.
    public let commandTag: String

    /// Creates a result.
    public init(columns: [String], rows: [PostgresRow], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }
}
