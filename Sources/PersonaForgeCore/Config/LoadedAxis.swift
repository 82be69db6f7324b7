/// An axis after loading: its values in memory, or (for PostgreSQL axes) the
/// table description for `PersonaForgeStore` to serve.
public struct LoadedAxis: Sendable {
    /// Axis name.
    public let name: String
    /// The declaration.
    public let config: AxisConfig
    /// The values for inline and file axes; nil for PostgreSQL axes.
    public let values: InMemoryAxisValueSource?
    /// Field names every value carries.
    public let fieldNames: [String]

    /// Number of values, if known without a database.
    public var count: Int? {
        if let values { return values.count }
        if case .postgres(let table) = config.source { return table.count }
        return nil
    }

    /// A short description of where the values come from, for `plan`.
    public var sourceDescription: String {
        switch config.source {
        case .inline: return "inline list"
        case .file(let file): return "\(file.format.rawValue) file \(file.path)" + (file.format == .jsonl ? " (field '\(file.field)')" : "")
        case .postgres(let table):
            return "postgres table \(table.table).\(table.column)" + (table.count == nil ? " (count resolved at submit)" : " (count from config)")
        }
    }
}
