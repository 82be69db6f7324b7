/// Stands in for a PostgreSQL-backed axis when no database is at hand (`plan`):
/// value `i` renders as `⟨AXIS row i of TABLE⟩`, each field as `⟨AXIS.FIELD of row i⟩`.
public struct PlaceholderAxisValueSource: AxisValueSource, Hashable {
    /// Axis name.
    public let axis: String
    /// The table description.
    public let table: PostgresAxisSource
    public let count: Int

    /// Creates a placeholder with `count` values.
    public init(axis: String, table: PostgresAxisSource, count: Int) {
        self.axis = axis
        self.table = table
        self.count = count
    }

    public func values(at indices: [Int]) async throws -> [AxisValue] {
        indices.map { index in
            AxisValue(
                "⟨\(axis) row \(index) of \(table.table).\(table.column)⟩",
                fields: Dictionary(uniqueKeysWithValues: table.fields.map { ($0, "⟨\(axis).\($0) of row \(index)⟩") })
            )
        }
    }
}
