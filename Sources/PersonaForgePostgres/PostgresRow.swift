/// One row of a ``PostgresResult``, copied out of libpq.
public struct PostgresRow: Sendable, Hashable {
    /// The column names of the result, in order.
    public let columns: [String]
    /// The fields in text format, in column order; nil is SQL NULL.
    public let values: [String?]

    /// Creates a row; `values` must have one entry per column.
    public init(columns: [String], values: [String?]) {
        precondition(columns.count == values.count, "a row needs one value per column")
        self.columns = columns
        self.values = values
    }

    /// The field at `index` (0-based).
    public subscript(index: Int) -> PostgresCell {
        PostgresCell(values[index])
    }

    /// The field named `column`. A name the result does not have traps: it is
    /// a programming error, like an index out of range. Use
    /// ``cell(named:)`` when the column may be absent.
    public subscript(column: String) -> PostgresCell {
        guard let cell = cell(named: column) else {
            preconditionFailure("result has no column '\(column)'; columns: \(columns.joined(separator: ", "))")
        }
        return cell
    }

    /// The field named `column`, or nil if the result has no such column.
    public func cell(named column: String) -> PostgresCell? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return PostgresCell(values[index])
    }
}
