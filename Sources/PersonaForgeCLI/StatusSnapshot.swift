import Foundation
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore

/// The queues as Redis sees them.
struct QueueStatus {
    var shardsQueued: Int64 = 0
    var shardsPending: Int64 = 0
    var resultsQueued: Int64 = 0
    var resultsPending: Int64 = 0
    var deadLetters: Int64 = 0
    /// Worker consumers: name, shards held, milliseconds since last seen.
    var workers: [(name: String, pending: Int64, idleMilliseconds: Int64)] = []

    static func read(redis: RedisConnection, layout: QueueLayout) async throws -> QueueStatus {
        var status = QueueStatus()
        let replies = try await redis.pipeline([
            RedisCommand("XLEN", layout.shards), RedisCommand("XLEN", layout.results), RedisCommand("XLEN", layout.deadLetters),
        ])
        status.shardsQueued = replies[0].integer ?? 0
        status.resultsQueued = replies[1].integer ?? 0
        status.deadLetters = replies[2].integer ?? 0
        if let summary = try? await redis.pendingSummary(layout.shards, group: layout.workersGroup) { status.shardsPending = summary.count }
        if let summary = try? await redis.pendingSummary(layout.results, group: layout.reducersGroup) { status.resultsPending = summary.count }
        if let consumers = try? await redis.send("XINFO", "CONSUMERS", layout.shards, layout.workersGroup).array {
            for consumer in consumers {
                guard let map = consumer.fieldMap else { continue }
                status.workers.append((map["name"]?.string ?? "?", map["pending"]?.integer ?? 0, map["idle"]?.integer ?? 0))
            }
        }
        return status
    }

    /// Workers seen in the last `seconds` (consumers linger in Redis after they exit).
    func liveWorkers(within seconds: Int64 = 30) -> [(name: String, pending: Int64, idleMilliseconds: Int64)] {
        workers.filter { $0.idleMilliseconds < seconds * 1000 || $0.pending > 0 }
    }
}

/// One run's progress, as `status` and `run` show it.
struct RunStatus {
    var run: RunSummary
    var reasons: [(status: String, reason: String, count: Int64)]
    /// Per axis: values seen, and the lowest-yield values (label, kept, generated).
    var coverage: [(axis: String, values: Int64, lowest: [(label: String, kept: Int64, generated: Int64)])] = []
    /// The diversity snapshot to show: the final one if any (`personaforge evaluate --save`
    /// on a completed run), else the latest (live ones come from the reducers).
    var diversity: (records: Int64, final: Bool, metrics: [String: Double])?
    var recentRecords: Int64
    var recentTokens: Int64
    var windowSeconds: Double

    static func read(_ id: String, database: PostgresConnection, runs: RunRepository) async throws -> RunStatus? {
        guard let run = try await runs.summary(id: id) else { return nil }
        let reasons = try await database.query("""
            SELECT status, coalesce(reject_reason, '') AS reason, count(*) AS n FROM records
            WHERE run_id = $1::uuid AND status IN ('filtered', 'failed') GROUP BY 1, 2 ORDER BY 3 DESC
            """, [run.id]).map { ($0["status"].string ?? "", $0["reason"].string ?? "", $0["n"].int64 ?? 0) }
        let recent = try await database.query("""
            SELECT count(*) AS n, coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0) AS tokens
            FROM records WHERE run_id = $1::uuid AND created_at > now() - interval '60 seconds'
            """, [run.id]).first
        var coverage: [(axis: String, values: Int64, lowest: [(label: String, kept: Int64, generated: Int64)])] = []
        for row in try await database.query("""
            SELECT axis, count(*) AS n FROM axis_coverage WHERE run_id = $1::uuid GROUP BY axis ORDER BY axis
            """, [run.id]) {
            let axis = row["axis"].string ?? ""
            let lowest = try await database.query("""
                SELECT coalesce(value_label, '#' || value_index) AS label, kept, generated FROM axis_coverage
                WHERE run_id = $1::uuid AND axis = $2 ORDER BY kept::float8 / greatest(generated, 1), generated DESC, value_index LIMIT 3
                """, [run.id, axis]).map { ($0["label"].string ?? "", $0["kept"].int64 ?? 0, $0["generated"].int64 ?? 0) }
            coverage.append((axis, row["n"].int64 ?? 0, lowest))
        }
        var diversity: (records: Int64, final: Bool, metrics: [String: Double])?
        if let row = try await database.query(
            "SELECT records_seen, is_final, metrics::text AS metrics FROM metric_snapshots WHERE run_id = $1::uuid ORDER BY is_final DESC, taken_at DESC LIMIT 1", [run.id]
        ).first, let metrics = try? JSONDecoder().decode([String: Double].self, from: Data((row["metrics"].string ?? "{}").utf8)) {
            diversity = (row["records_seen"].int64 ?? 0, row["is_final"].bool ?? false, metrics)
        }
        return RunStatus(
            run: run, reasons: reasons, coverage: coverage, diversity: diversity, recentRecords: recent?["n"].int64 ?? 0, recentTokens: recent?["tokens"].int64 ?? 0,
            windowSeconds: min(60, max(1, run.elapsedSeconds ?? 60))
        )
    }

    var recordsPerSecond: Double { Double(recentRecords) / windowSeconds }
    var tokensPerSecond: Double { Double(recentTokens) / windowSeconds }

    var etaSeconds: Double? {
        let remaining = run.sampleCount - run.accounted
        guard remaining > 0, recordsPerSecond > 0, run.state == .running else { return nil }
        return Double(remaining) / recordsPerSecond
    }

    func text(queue: QueueStatus?, endpoints: [EndpointHealth.Row] = []) -> String {
        var lines: [String] = []
        let r = run
        let fraction = r.sampleCount > 0 ? Double(r.accounted) / Double(r.sampleCount) : 1
        lines.append("run \(r.id)  \(r.name)  [\(r.state.rawValue)]  model \(r.model ?? "?")")
        lines.append("  progress  \(Self.bar(fraction, width: 30)) \(r.accounted)/\(r.sampleCount) samples (\(Int(fraction * 100))%), shards \(r.shardsDone + r.shardsDead)/\(r.shardCount) done, \(r.nextShard) queued so far")
        lines.append("  outcome   kept \(r.kept)  filtered \(r.filtered)  failed \(r.failed)  duplicate \(r.duplicate)"
            + (r.accounted > 0 ? "  (yield \(String(format: "%.1f", Double(r.kept) / Double(r.accounted) * 100))%)" : ""))
        for (status, reason, count) in reasons.prefix(8) {
            lines.append("            \(status) \(reason.isEmpty ? "(no reason)" : reason): \(count)")
        }
        for axis in coverage {
            let lowest = axis.lowest.map { "\"\($0.label.count > 40 ? String($0.label.prefix(40)) + "…" : $0.label)\" \($0.kept)/\($0.generated)" }
            lines.append("  coverage  \(axis.axis): \(axis.values) values seen; lowest yield: " + lowest.joined(separator: ", "))
        }
        if let diversity {
            let m = diversity.metrics
            func value(_ name: String) -> String { m[name].map { String(format: "%.3f", $0) } ?? "?" }
            let kind = diversity.final ? "final, " : m["live"] == 1 ? "live, " : ""
            var line = "  diversity distinct-1 \(value("distinct_1")), distinct-2 \(value("distinct_2")), compression ratio \(value("compression_ratio")), homogenization \(value("homogenization_rougel"))"
            if m["embedding_vendi_score"] != nil {
                line += ", embedding distance \(value("embedding_mean_cosine_distance")), Vendi \(value("embedding_vendi_score"))"
            }
            lines.append(line + " (\(kind)\(diversity.records) kept records)")
        }
        lines.append("  tokens    prompt \(r.promptTokens)  completion \(r.completionTokens)"
            + (r.tokensPerKept.map { "  (\(String(format: "%.1f", $0)) per kept record)" } ?? ""))
        if let cost = r.costSummary(gap: "  ") { lines.append("  cost      \(cost)") }
        for line in r.budgetLines { lines.append("  budget    \(line)") }
        var rate = "  rate      \(String(format: "%.2f", recordsPerSecond)) records/s, \(String(format: "%.1f", tokensPerSecond)) tokens/s (last \(Int(windowSeconds)) s)"
        if let eta = etaSeconds { rate += ", ETA \(Self.duration(eta))" }
        if let elapsed = r.elapsedSeconds { rate += ", elapsed \(Self.duration(elapsed))" }
        lines.append(rate)
        for (offset, endpoint) in endpoints.enumerated() {
            lines.append((offset == 0 ? "  endpoints " : "            ") + Self.endpointLine(endpoint, width: endpoints.map(\.endpoint.count).max() ?? 0))
        }
        if r.shardsDead > 0 { lines.append("  dead-lettered shards: \(r.shardsDead) (see `personaforge status` queue section)") }
        if let queue {
            lines.append(queue.text)
        }
        return lines.joined(separator: "\n")
    }

    /// `local   in    ok 1200  errors 3  429/503 0  out 0×  48/min`, and the last error when there are errors.
    static func endpointLine(_ row: EndpointHealth.Row, width: Int) -> String {
        let state = row.workersOut == 0 ? "in " : "OUT (\(row.workersOut) of \(row.workers) worker\(row.workers == 1 ? "" : "s"))"
        var line = "\(row.endpoint.padding(toLength: max(width, 4), withPad: " ", startingAt: 0))  \(state)  ok \(row.ok)  errors \(row.errors)"
            + "  429/503 \(row.rateLimited)  taken out \(row.ejections)×  \(row.okLastMinute)/min"
        if row.errors > 0, let error = row.lastError {
            line += "  last error: " + (error.count > 100 ? String(error.prefix(100)) + "…" : error)
        }
        return line
    }

    static func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total / 60 % 60))m"
    }
}

extension QueueStatus {
    var text: String {
        var lines = [
            // Acknowledged entries are deleted, so length − pending is the lag (not yet delivered).
            "  queue     shards: \(max(0, shardsQueued - shardsPending)) waiting for a worker (lag), \(shardsPending) in flight; results: \(max(0, resultsQueued - resultsPending)) waiting for a reducer, \(resultsPending) being stored; dead letters: \(deadLetters)",
        ]
        let live = liveWorkers()
        lines.append("  workers   \(live.count) live" + (live.isEmpty ? "" : ": " + live.map { "\($0.name) (\($0.pending) shard\($0.pending == 1 ? "" : "s"))" }.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }
}
