import Foundation
import PersonaForgeCore

/// The readable table `personaforge metrics` prints without `--json`.
struct MetricsTable {
    let metrics: DiversityMetrics
    let source: String
    let field: String

    var text: String {
        var lines = ["Diversity of '\(field)' in \(source)", ""]
        let names = metrics.orderedNames
        let width = (names.map(\.count).max() ?? 0) + 2
        for name in names {
            let value = metrics[name] ?? 0
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + Self.format(value))
        }
        lines.append("")
        lines.append("exact_* = 1: that metric is exact; 0: approximated (see docs/metrics.md).")
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(format: "%.4f", value)
    }
}
