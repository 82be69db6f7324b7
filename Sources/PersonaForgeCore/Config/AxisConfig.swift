/// One axis of the condition space as declared in the run config.
public struct AxisConfig: Sendable, Hashable {
    /// Axis name: the template variable (`{{persona}}`).
    public var name: String
    /// Where the values come from.
    public var source: AxisSourceConfig
    /// Line of the axis in the config file (for messages).
    public var line: Int

    /// Creates an axis declaration.
    public init(name: String, source: AxisSourceConfig, line: Int = 0) {
        self.name = name
        self.source = source
        self.line = line
    }
}

/// Where an axis draws its values from (`source:` in the config).
public enum AxisSourceConfig: Sendable, Hashable {
    /// `source: {values: [...]}`: strings, or mappings with `value:` and extra fields.
    case inline([AxisValue])
    /// `source: {file: ..., field: ..., fields: [...]}`: a JSONL or text file.
    case file(FileAxisSource)
    /// `source: {postgres: {...}}`: a PostgreSQL table, fetched by index per shard.
    case postgres(PostgresAxisSource)

    /// Names of the extra fields every value carries (`{{axis.field}}`).
    public var fieldNames: [String] {
        switch self {
        case .inline(let values): return values.first.map { $0.fields.keys.sorted() } ?? []
        case .file(let file): return file.fields
        case .postgres(let table): return table.fields
        }
    }
}

/// An axis read from a file at load time.
public struct FileAxisSource: Sendable, Hashable {
    /// File format.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// One JSON object per line; the value is `field`.
        case jsonl
        /// One value per line; blank lines are skipped.
        case text
    }

    /// The path as written in the config.
    public var path: String
    /// The path resolved against the config file's directory.
    public var resolvedPath: String
    /// The format (default: `jsonl` for `.jsonl`/`.ndjson`/`.json`, else `text`).
    public var format: Format
    /// JSONL: the field holding the value (default: the axis name).
    public var field: String
    /// JSONL: extra fields to carry into templates (every line must have them).
    public var fields: [String]

    /// Creates a file source.
    public init(path: String, resolvedPath: String, format: Format, field: String, fields: [String] = []) {
        self.path = path
        self.resolvedPath = resolvedPath
        self.format = format
        self.field = field
        self.fields = fields
    }
}

/// An axis served from a PostgreSQL table, for axes too big for memory.
///
/// The core only carries this description; `PersonaForgeStore` implements an
/// ``AxisValueSource`` over it. Value `i` is the row with `id_column = i` when
/// `order_by` is absent (ids must then be dense `0..<count`), otherwise the
/// `i`-th row in `order_by` order.
public struct PostgresAxisSource: Sendable, Hashable {
    /// Table name, optionally schema-qualified (`public.personas`).
    public var table: String
    /// Column holding the value text.
    public var column: String
    /// Dense integer id column `0..<count` (default `id`).
    public var idColumn: String
    /// Optional ordering instead of dense ids (slower: keyset/offset lookups).
    public var orderBy: String?
    /// Extra columns carried into templates as fields.
    public var fields: [String]
    /// Row count if known in advance; lets `plan` compute the space without a database.
    public var count: Int?

    /// Creates a table source.
    public init(table: String, column: String, idColumn: String = "id", orderBy: String? = nil, fields: [String] = [], count: Int? = nil) {
        self.table = table
        self.column = column
        self.idColumn = idColumn
        self.orderBy = orderBy
        self.fields = fields
        self.count = count
    }
}
