public import PersonaForgeCore
public import PersonaForgePostgres

/// An axis whose values live in a PostgreSQL table (`source: {postgres: ...}`), for
/// axes too big for memory: a billion personas are never loaded, only the rows a
/// shard needs, in one query per axis per shard.
///
/// Value `i` is the row with `id_column = i` (dense ids `0..<count`, checked when the
/// source opens), or with `order_by`, the `i`-th row in that order (a window query:
/// fine for millions of rows, slow for billions; prefer dense ids there). The table
/// must live in PersonaForge's database and must not change during the run.
public struct PostgresTableAxisSource: AxisValueSource {
    public let axis: String
    public let source: PostgresAxisSource
    public let count: Int
    private let connection: PostgresConnection

    /// Counts the rows (checking dense ids) and returns the source.
    public static func open(axis: String, source: PostgresAxisSource, connection: PostgresConnection) async throws -> PostgresTableAxisSource {
        let table = quotedName(source.table)
        let count: Int
        do {
            if source.orderBy == nil {
                let id = quoted(source.idColumn)
                let row = try await connection.query("SELECT count(*) AS n, min(\(id))::bigint AS lo, max(\(id))::bigint AS hi, count(DISTINCT \(id)) AS d FROM \(table)")[0]
                count = row["n"].int ?? 0
                if count > 0 && (row["lo"].int != 0 || row["hi"].int != count - 1 || row["d"].int != count) {
                    throw AxisTableError(message: "axis '\(axis)': \(source.table).\(source.idColumn) must hold the dense ids 0…\(count - 1) (found \(row["lo"].string ?? "NULL")…\(row["hi"].string ?? "NULL") over \(count) rows, \(row["d"].string ?? "?") distinct); renumber it or set order_by")
                }
            } else {
                count = try await connection.query("SELECT count(*) AS n FROM \(table)")[0]["n"].int ?? 0
            }
        } catch let error as PostgresError {
            throw AxisTableError(message: "axis '\(axis)': cannot read table \(source.table): \(error.serverMessage ?? error.message)")
        }
        if count == 0 {
            throw AxisTableError(message: "axis '\(axis)': table \(source.table) is empty")
        }
        if let expected = source.count, expected != count {
            throw AxisTableError(message: "axis '\(axis)': the config says count \(expected) but table \(source.table) has \(count) rows")
        }
        return PostgresTableAxisSource(axis: axis, source: source, count: count, connection: connection)
    }

    public func values(at indices: [Int]) async throws -> [AxisValue] {
        if indices.isEmpty { return [] }
        let wanted = Array(Set(indices))
        let list = "{" + wanted.map(String.init).joined(separator: ",") + "}"
        let columns = ([source.column] + source.fields).enumerated().map { "\(Self.quoted($1))::text AS c\($0)" }.joined(separator: ", ")
        let table = Self.quotedName(source.table)
        let sql: String
        if let orderBy = source.orderBy {
            sql = """
                SELECT idx, \((0...source.fields.count).map { "c\($0)" }.joined(separator: ", ")) FROM (
                    SELECT row_number() OVER (ORDER BY \(orderBy)) - 1 AS idx, \(columns) FROM \(table)
                ) numbered WHERE idx = ANY($1::bigint[])
                """
        } else {
            sql = "SELECT \(Self.quoted(source.idColumn))::bigint AS idx, \(columns) FROM \(table) WHERE \(Self.quoted(source.idColumn)) = ANY($1::bigint[])"
        }
        var byIndex: [Int: AxisValue] = [:]
        for row in try await connection.query(sql, [list]) {
            guard let index = row["idx"].int else { continue }
            var fields: [String: String] = [:]
            for (offset, name) in source.fields.enumerated() {
                fields[name] = row["c\(offset + 1)"].string ?? ""
            }
            byIndex[index] = AxisValue(row["c0"].string ?? "", fields: fields)
        }
        return try indices.map { index in
            guard let value = byIndex[index] else {
                throw AxisTableError(message: "axis '\(axis)': row \(index) of \(source.table) is missing (did the table change during the run?)")
            }
            return value
        }
    }

    /// `"name"`; identifiers were already checked to be plain SQL names by the config parser.
    static func quoted(_ identifier: String) -> String { "\"\(identifier)\"" }

    /// `"schema"."table"` or `"table"`.
    static func quotedName(_ name: String) -> String {
        name.split(separator: ".").map { quoted(String($0)) }.joined(separator: ".")
    }

    /// Sources for every PostgreSQL axis of a run.
    public static func sources(for run: LoadedRun, connection: PostgresConnection) async throws -> [String: any AxisValueSource] {
        var sources: [String: any AxisValueSource] = [:]
        for axis in run.axes {
            if case .postgres(let table) = axis.config.source {
                sources[axis.name] = try await open(axis: axis.name, source: table, connection: connection)
            }
        }
        return sources
    }
}

/// A PostgreSQL-backed axis that cannot be used as configured.
public struct AxisTableError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
