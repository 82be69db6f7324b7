import Foundation
import PersonaForgeCore
public import PersonaForgePostgres

/// Reads a ``RunReport`` from PostgreSQL.
///
/// Every query is bounded in what it returns whatever the run size: counts are
/// grouped server-side into at most `timelineBuckets`, `lengthBins` and
/// `heatmapRows × heatmapColumns` rows, per-axis lists carry `LIMIT`s, and sample
/// records come from the primary-key order with a `LIMIT`. The scans over a run's
/// records (timeline, heatmap, lengths) are linear in the run's records but move
/// only aggregates to the client.
public struct RunReportQueries: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Bounds of a report.
    public struct Options: Sendable {
        /// The two axes of the heatmap (row, column); nil picks the run's first two axes.
        public var heatmapAxes: (row: String, column: String)?
        /// Rows and columns of the heatmap: larger axes are cut into this many equal index ranges.
        public var heatmapRows = 20
        public var heatmapColumns = 40
        /// Axis values listed per axis: all of a smaller axis, else the lowest-yield ones.
        public var valuesPerAxis = 30
        /// Under-covered values listed per axis.
        public var leastCoveredPerAxis = 5
        public var timelineBuckets = 60
        public var lengthBins = 20
        /// Metric snapshots read (the most recent ones).
        public var snapshotLimit = 500
        /// Sample records: this many kept ones, and this many rejected ones.
        public var keptSamples = 4
        public var rejectedSamples = 3
        /// Characters of a sample's text (and of its condition values) kept.
        public var sampleTextLimit = 600
        /// Whether to read what only the charts need (timeline, heatmap, lengths,
        /// samples: the queries that scan the run's records). A dataset card needs none.
        public var charts = true

        public init() {}
    }

    /// The report of `run` (found with ``RunRepository/summary(id:)``).
    /// - Throws: ``RunReportError`` when `options.heatmapAxes` names an axis the run does not have.
    public func report(for run: RunSummary, options: Options = Options()) async throws -> RunReport {
        var report = RunReport(run: run)
        let row = try await connection.query(
            "SELECT config_yaml, seed, condition_count FROM runs WHERE id = $1::uuid", [run.id]
        ).first
        report.configYAML = row?["config_yaml"].string ?? ""
        report.seed = UInt64(bitPattern: row?["seed"].int64 ?? 0)
        report.conditionCount = row?["condition_count"].int64 ?? 0

        // The stored config gives the axes in order, their sizes and the prompts; a config
        // that no longer loads (an older binary's) still gets a report from the tables.
        let loaded = try? await RunRepository(connection: connection).stored(id: run.id)?.load()
        var axes: [(name: String, size: Int64?)] = []
        if let loaded {
            axes = loaded.axes.map { ($0.name, $0.count.map(Int64.init)) }
            if axes.filter({ $0.size == nil }).count == 1, report.conditionCount > 0 {
                // A PostgreSQL axis without `count:`: its size is what the product leaves.
                let known = axes.compactMap(\.size).reduce(Int64(1), *)
                if known > 0, let missing = axes.firstIndex(where: { $0.size == nil }) {
                    axes[missing].size = report.conditionCount / known
                }
            }
            let config = loaded.config
            report.generation = RunReport.Generation(
                model: config.model.name, api: config.model.api.rawValue, temperature: config.model.temperature,
                topP: config.model.topP, maxTokens: config.model.maxTokens, samplesPerCondition: config.samplesPerCondition,
                limit: config.limit, steps: config.steps.map { .init(name: $0.name, system: $0.system, user: $0.user) },
                dedupEnabled: config.dedup.enabled, dedupThreshold: config.dedup.threshold
            )
        } else {
            axes = try await connection.query(
                "SELECT DISTINCT axis FROM axis_coverage WHERE run_id = $1::uuid ORDER BY axis", [run.id]
            ).map { ($0["axis"].string ?? "", nil) }
        }

        report.rejectReasons = try await connection.query("""
            SELECT status, coalesce(reject_reason, '') AS reason, count(*) AS n FROM records
            WHERE run_id = $1::uuid AND status IN ('filtered', 'failed') GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 50
            """, [run.id]).map { .init(status: $0["status"].string ?? "", reason: $0["reason"].string ?? "", count: $0["n"].int64 ?? 0) }
        report.snapshots = try await snapshots(run.id, limit: options.snapshotLimit)
        for (index, axis) in axes.enumerated() {
            let coverage = try await coverage(run.id, axis: axis.name, size: axis.size, options: options)
            axes[index].size = axis.size ?? coverage.size
            report.axes.append(coverage)
        }
        let chosen = try heatmapAxes(options.heatmapAxes, of: axes.map(\.name), run: run.id)
        guard options.charts else { return report }
        report.timeline = try await timeline(run.id, buckets: options.timelineBuckets)
        if let chosen {
            let sizes = Dictionary(report.axes.map { ($0.axis, $0.size ?? 0) }, uniquingKeysWith: { first, _ in first })
            report.heatmap = try await heatmap(
                run.id, row: (chosen.row, sizes[chosen.row] ?? 0), column: (chosen.column, sizes[chosen.column] ?? 0), options: options)
        }
        report.lengths = try await lengths(run.id, bins: options.lengthBins)
        report.samples = try await samples(run.id, status: "status = 'kept'", limit: options.keptSamples, textLimit: options.sampleTextLimit)
            + samples(run.id, status: "status <> 'kept'", limit: options.rejectedSamples, textLimit: options.sampleTextLimit)
        return report
    }

    // MARK: Parts

    func timeline(_ runID: String, buckets: Int) async throws -> RunReport.Timeline {
        guard let range = try await connection.query("""
            SELECT min(created_at)::text AS first, extract(epoch FROM max(created_at) - min(created_at))::float8 AS span
            FROM records WHERE run_id = $1::uuid
            """, [runID]).first, let first = range["first"].string else { return RunReport.Timeline() }
        let span = range["span"].double ?? 0
        let count = max(1, buckets)
        // Equal buckets over the run's span (the last record falls in the last bucket).
        let width = span > 0 ? span / Double(count) : 1
        var result = RunReport.Timeline(bucketSeconds: width, start: first, buckets: Array(repeating: .init(), count: span > 0 ? count : 1))
        for row in try await connection.query("""
            SELECT least(floor(extract(epoch FROM created_at - $2::timestamptz) / $3::float8), $4::int - 1)::int AS b, status, count(*) AS n
            FROM records WHERE run_id = $1::uuid GROUP BY 1, 2
            """, [runID, first, String(width), String(result.buckets.count)]) {
            guard let bucket = row["b"].int, result.buckets.indices.contains(bucket) else { continue }
            result.buckets[bucket].add(row["n"].int64 ?? 0, status: row["status"].string ?? "")
        }
        return result
    }

    func snapshots(_ runID: String, limit: Int) async throws -> [RunReport.MetricSnapshot] {
        try await connection.query("""
            SELECT taken_at::text AS taken_at, records_seen, is_final, metrics::text AS metrics FROM (
                SELECT * FROM metric_snapshots WHERE run_id = $1::uuid ORDER BY taken_at DESC, snapshot DESC LIMIT $2
            ) latest ORDER BY taken_at, snapshot
            """, [runID, String(limit)]).map { row in
            RunReport.MetricSnapshot(
                takenAt: row["taken_at"].string ?? "", recordsSeen: row["records_seen"].int64 ?? 0,
                isFinal: row["is_final"].bool ?? false, metrics: Self.numericMetrics(row["metrics"].string ?? "{}")
            )
        }
    }

    /// The numeric members of a metrics object; other members (any shape a newer writer
    /// adds) are skipped rather than failing the report.
    static func numericMetrics(_ json: String) -> [String: Double] {
        (try? JSONDecoder().decode(NumericMembers.self, from: Data(json.utf8)))?.values ?? [:]
    }

    private struct NumericMembers: Decodable {
        var values: [String: Double] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                // Booleans, strings and nested objects do not decode as Double: skipped.
                if let value = try? container.decode(Double.self, forKey: key) { values[key.stringValue] = value }
            }
        }
    }

    private static let valueColumns = """
        value_index, value_label, generated, kept, filtered, failed, duplicate, tokens
        """

    private static func valueStats(_ row: PostgresRow) -> RunReport.AxisValueStats {
        RunReport.AxisValueStats(
            index: row["value_index"].int64 ?? 0, label: row["value_label"].string,
            counts: .init(kept: row["kept"].int64 ?? 0, filtered: row["filtered"].int64 ?? 0, failed: row["failed"].int64 ?? 0,
                          duplicate: row["duplicate"].int64 ?? 0),
            tokens: row["tokens"].int64 ?? 0
        )
    }

    func coverage(_ runID: String, axis: String, size: Int64?, options: Options) async throws -> RunReport.AxisCoverage {
        let totals = try await connection.query(
            "SELECT count(*) AS n, max(value_index) AS top FROM axis_coverage WHERE run_id = $1::uuid AND axis = $2", [runID, axis]
        ).first
        let seen = totals?["n"].int64 ?? 0
        let all = seen <= Int64(options.valuesPerAxis)
        let order = all ? "value_index" : "kept::float8 / greatest(generated, 1), generated DESC, value_index"
        let values = try await connection.query(
            "SELECT \(Self.valueColumns) FROM axis_coverage WHERE run_id = $1::uuid AND axis = $2 ORDER BY \(order) LIMIT $3",
            [runID, axis, String(options.valuesPerAxis)]
        ).map(Self.valueStats)
        let least = try await connection.query(
            "SELECT \(Self.valueColumns) FROM axis_coverage WHERE run_id = $1::uuid AND axis = $2 ORDER BY generated, value_index LIMIT $3",
            [runID, axis, String(options.leastCoveredPerAxis)]
        ).map(Self.valueStats)
        // Without the config, the size is at least the highest index seen + 1.
        let size = size ?? totals?["top"].int64.map { $0 + 1 }
        return RunReport.AxisCoverage(
            axis: axis, size: size, valuesSeen: seen,
            values: try await withRejectReasons(values, runID: runID, axis: axis),
            allValues: all, leastCovered: try await withRejectReasons(least, runID: runID, axis: axis)
        )
    }

    /// The reject reasons of the listed values (bounded: only those values are read).
    private func withRejectReasons(_ values: [RunReport.AxisValueStats], runID: String, axis: String) async throws -> [RunReport.AxisValueStats] {
        guard !values.isEmpty else { return values }
        let indices = "{" + values.map { String($0.index) }.joined(separator: ",") + "}"
        var reasons: [Int64: [RunReport.RejectReasonCount]] = [:]
        for row in try await connection.query("""
            SELECT value_index, status, reason, records FROM axis_reject_reasons
            WHERE run_id = $1::uuid AND axis = $2 AND value_index = ANY($3::bigint[])
            ORDER BY value_index, records DESC, status, reason
            """, [runID, axis, indices]) {
            guard let index = row["value_index"].int64 else { continue }
            reasons[index, default: []].append(.init(
                status: row["status"].string ?? "", reason: row["reason"].string ?? "", records: row["records"].int64 ?? 0
            ))
        }
        return values.map { value in
            var value = value
            value.rejectReasons = reasons[value.index] ?? []
            return value
        }
    }

    func heatmapAxes(_ requested: (row: String, column: String)?, of axes: [String], run: String) throws -> (row: String, column: String)? {
        if let requested {
            for name in [requested.row, requested.column] where !axes.contains(name) {
                throw RunReportError("'\(name)' is not an axis of run \(run) (its axes: \(axes.joined(separator: ", ")))")
            }
            guard requested.row != requested.column else {
                throw RunReportError("the heatmap needs two different axes, got '\(requested.row)' twice")
            }
            return requested
        }
        guard axes.count >= 2 else { return nil }
        return (axes[1], axes[0])
    }

    /// The index ranges of `count` equal bands over an axis of `size` values:
    /// value `i` falls in band `i · count / size`.
    public static func bands(size: Int64, count: Int64) -> [(first: Int64, last: Int64)] {
        guard size > 0, count > 0 else { return [] }
        func first(_ band: Int64) -> Int64 { (band * size + count - 1) / count }
        return (0..<count).map { (first($0), first($0 + 1) - 1) }
    }

    func heatmap(_ runID: String, row: (axis: String, size: Int64), column: (axis: String, size: Int64), options: Options) async throws -> RunReport.CoverageHeatmap {
        let rowCount = min(row.size, Int64(options.heatmapRows))
        let columnCount = min(column.size, Int64(options.heatmapColumns))
        func labelled(_ axis: (axis: String, size: Int64), count: Int64) async throws -> [RunReport.CoverageHeatmap.Band] {
            let ranges = Self.bands(size: axis.size, count: count)
            var labels: [Int64: String] = [:]
            if count == axis.size {
                for row in try await connection.query(
                    "SELECT value_index, value_label FROM axis_coverage WHERE run_id = $1::uuid AND axis = $2 AND value_index < $3",
                    [runID, axis.axis, String(count)]
                ) {
                    if let index = row["value_index"].int64, let label = row["value_label"].string { labels[index] = label }
                }
            }
            return ranges.map { range in
                let label = range.first == range.last ? labels[range.first] ?? "#\(range.first)" : "#\(range.first)–#\(range.last)"
                return .init(label: label, first: range.first, last: range.last)
            }
        }
        let rows = try await labelled(row, count: rowCount)
        let columns = try await labelled(column, count: columnCount)
        var cells = Array(repeating: Array(repeating: RunReport.CoverageHeatmap.Cell(), count: columns.count), count: rows.count)
        if !rows.isEmpty && !columns.isEmpty {
            for cell in try await connection.query("""
                SELECT least(r.i * $4::bigint / $5::bigint, $4::bigint - 1) AS rb, least(c.i * $6::bigint / $7::bigint, $6::bigint - 1) AS cb,
                       count(*) AS generated, count(*) FILTER (WHERE status = 'kept') AS kept
                FROM records,
                     LATERAL (SELECT (e->>'index')::bigint AS i FROM jsonb_array_elements(condition) e WHERE e->>'axis' = $2 LIMIT 1) r,
                     LATERAL (SELECT (e->>'index')::bigint AS i FROM jsonb_array_elements(condition) e WHERE e->>'axis' = $3 LIMIT 1) c
                WHERE run_id = $1::uuid GROUP BY 1, 2
                """, [runID, row.axis, column.axis, String(rowCount), String(row.size), String(columnCount), String(column.size)]) {
                guard let r = cell["rb"].int, let c = cell["cb"].int, rows.indices.contains(r), columns.indices.contains(c) else { continue }
                cells[r][c] = .init(generated: cell["generated"].int64 ?? 0, kept: cell["kept"].int64 ?? 0)
            }
        }
        return RunReport.CoverageHeatmap(rowAxis: row.axis, columnAxis: column.axis, rows: rows, columns: columns, cells: cells)
    }

    func lengths(_ runID: String, bins: Int) async throws -> RunReport.LengthHistogram {
        guard let range = try await connection.query(
            "SELECT min(char_length(text)) AS lo, max(char_length(text)) AS hi FROM records WHERE run_id = $1::uuid AND status = 'kept'", [runID]
        ).first, let low = range["lo"].int64, let high = range["hi"].int64 else { return RunReport.LengthHistogram() }
        let count = Int64(max(1, bins))
        let width = max(1, (high - low + count) / count)  // ceil((high - low + 1) / count)
        var histogram = RunReport.LengthHistogram(lowerBound: low, binWidth: width, counts: Array(repeating: 0, count: Int((high - low) / width + 1)))
        for row in try await connection.query("""
            SELECT (char_length(text) - $2::bigint) / $3::bigint AS b, count(*) AS n FROM records
            WHERE run_id = $1::uuid AND status = 'kept' GROUP BY 1
            """, [runID, String(low), String(width)]) {
            guard let bin = row["b"].int, histogram.counts.indices.contains(bin) else { continue }
            histogram.counts[bin] = row["n"].int64 ?? 0
        }
        return histogram
    }

    func samples(_ runID: String, status filter: String, limit: Int, textLimit: Int) async throws -> [RunReport.SampleRecord] {
        guard limit > 0 else { return [] }
        return try await connection.query("""
            SELECT position, sample, status, reject_reason, condition::text AS condition, left(coalesce(text, ''), $2) AS text
            FROM records WHERE run_id = $1::uuid AND \(filter) ORDER BY position, sample LIMIT $3
            """, [runID, String(textLimit), String(limit)]).map { row in
            let values = (try? JSONDecoder().decode([NamedAxisValue].self, from: Data((row["condition"].string ?? "[]").utf8))) ?? []
            return RunReport.SampleRecord(
                position: row["position"].int64 ?? 0, sample: row["sample"].int64 ?? 0, status: row["status"].string ?? "",
                reason: row["reject_reason"].string,
                condition: values.map { ($0.axis, String($0.value.text.prefix(textLimit))) }, text: row["text"].string ?? ""
            )
        }
    }
}

/// A report that cannot be made as asked; the message says what to change.
public struct RunReportError: Error, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
