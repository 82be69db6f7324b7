import Foundation
import PersonaForgeCore
import PersonaForgeStore

/// The terminal summary of `personaforge report RUN`: counts, yield, reject
/// reasons, duplicates, tokens, the latest metrics snapshot, the lowest-yield and
/// least-covered axis values and a few sample records. Pure, plain text.
enum RunReportText {
    static func render(_ report: RunReport) -> String {
        let run = report.run
        var lines: [String] = []
        let accounted = run.accounted
        func share(_ count: Int64) -> String { accounted > 0 ? SVGFormat.percent(Double(count) / Double(accounted)) : "–" }
        lines.append("run \(run.id)  \(oneLine(run.name, limit: 80))  [\(run.state.rawValue)]  model \(run.model ?? report.generation?.model ?? "?")")
        lines.append("  samples   \(SVGFormat.count(accounted)) stored of \(SVGFormat.count(run.sampleCount)) planned; shards \(run.shardsDone + run.shardsDead)/\(run.shardCount) done"
            + (run.shardsDead > 0 ? " (\(run.shardsDead) dead-lettered)" : "")
            + (run.elapsedSeconds.map { "; elapsed \(RunStatus.duration($0))" } ?? ""))
        lines.append("  outcome   kept \(SVGFormat.count(run.kept)) (yield \(share(run.kept)))  filtered \(SVGFormat.count(run.filtered)) (\(share(run.filtered)))"
            + "  failed \(SVGFormat.count(run.failed)) (\(share(run.failed)))  duplicate \(SVGFormat.count(run.duplicate)) (\(share(run.duplicate)))")
        lines.append("  tokens    prompt \(SVGFormat.count(run.promptTokens))  completion \(SVGFormat.count(run.completionTokens))"
            + (run.kept > 0 ? "  (\(SVGFormat.count((run.promptTokens + run.completionTokens) / run.kept)) per kept record)" : ""))
        if let cost = run.costSummary(gap: "  ") { lines.append("  cost      \(cost)") }
        for line in run.budgetLines { lines.append("  budget    \(oneLine(line, limit: 120))") }

        lines.append("")
        lines.append("reject reasons")
        if report.rejectReasons.isEmpty { lines.append("  none") }
        for reason in report.rejectReasons.prefix(10) {
            lines.append("  \(reason.status) \(reason.reason.isEmpty ? "(no reason)" : oneLine(reason.reason, limit: 80)): \(SVGFormat.count(reason.count)) (\(share(reason.count)))")
        }

        lines.append("")
        if let snapshot = report.latestSnapshot {
            lines.append("diversity (latest of \(report.snapshots.count) snapshots: \(snapshot.isFinal ? "final" : "live"), \(SVGFormat.count(snapshot.recordsSeen)) kept records, \(oneLine(snapshot.takenAt, limit: 40)))")
            let names = DiversityMetrics(values: snapshot.metrics).orderedNames.filter { !$0.hasPrefix("exact_") }
            let width = (names.map(\.count).max() ?? 0) + 2
            for name in names {
                lines.append("  " + oneLine(name, limit: 60).padding(toLength: width, withPad: " ", startingAt: 0) + MetricsTable.format(snapshot.metrics[name] ?? 0))
            }
        } else {
            lines.append("diversity: no snapshot yet (run `personaforge evaluate \(run.id) --save`)")
        }

        for axis in report.axes {
            lines.append("")
            let unseen = axis.valuesUnseen.map { $0 > 0 ? ", \(SVGFormat.count($0)) never used" : "" } ?? ""
            lines.append("axis \(oneLine(axis.axis, limit: 80)): \(SVGFormat.count(axis.valuesSeen)) of \(axis.size.map(SVGFormat.count) ?? "?") values used\(unseen)")
            let lowest = axis.values.sorted { ($0.yield, -$0.counts.total, $0.index) < ($1.yield, -$1.counts.total, $1.index) }.prefix(5)
            lines.append("  lowest yield:  " + lowest.map { describe($0) }.joined(separator: ", "))
            lines.append("  least covered: " + axis.leastCovered.prefix(5).map { describe($0) }.joined(separator: ", "))
        }

        if !report.samples.isEmpty {
            lines.append("")
            lines.append("sample records")
            for record in report.samples {
                let condition = record.condition.map { "\(oneLine($0.axis, limit: 40))=\"\(oneLine($0.value, limit: 50))\"" }.joined(separator: " ")
                lines.append("  [\(record.status)\(record.reason.map { " " + oneLine($0, limit: 80) } ?? "")] #\(record.position).\(record.sample) \(condition)")
                lines.append("    " + oneLine(record.text, limit: 200))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ value: RunReport.AxisValueStats) -> String {
        let reasons = value.rejectReasons.prefix(2).map { "\(oneLine($0.reason, limit: 30)) \($0.records)" }
        return "\"\(oneLine(value.displayLabel, limit: 40))\" \(value.counts.kept)/\(value.counts.total)"
            + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
    }

    /// `text` on one line (newlines and tabs as spaces, control characters dropped), cut to `limit`.
    static func oneLine(_ text: String, limit: Int) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\t" {
                result.unicodeScalars.append(" ")
            } else if scalar.value >= 0x20 && !(0x7F...0x9F).contains(scalar.value) {
                result.unicodeScalars.append(scalar)
            }
        }
        return HTMLText.truncated(result, to: limit)
    }
}
