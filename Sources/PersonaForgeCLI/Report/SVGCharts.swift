import Foundation

// Pure chart geometry and SVG text for the HTML report: numbers in, markup out,
// no I/O. Every chart computes its shapes first (tested on hand-computed inputs)
// and then renders them; every piece of text is escaped by `HTMLText`.

/// A rectangle in SVG user units (y grows downwards).
struct ChartRect: Hashable {
    var x: Double
    var y: Double
    var width: Double
    var height: Double
}

/// Maps a numeric domain linearly onto a pixel range. A degenerate domain
/// (lower == upper) maps everything to the start of the range instead of
/// dividing by zero.
struct LinearScale: Hashable {
    var domain: ClosedRange<Double>
    var range: (start: Double, end: Double)

    init(domain: ClosedRange<Double>, range: (Double, Double)) {
        self.domain = domain
        self.range = (range.0, range.1)
    }

    func callAsFunction(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        guard span > 0, span.isFinite, value.isFinite else { return range.start }
        return range.start + (value - domain.lowerBound) / span * (range.end - range.start)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.domain == rhs.domain && lhs.range.start == rhs.range.start && lhs.range.end == rhs.range.end
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(domain.lowerBound)
        hasher.combine(domain.upperBound)
    }
}

/// Formatting shared by the charts.
enum SVGFormat {
    /// A coordinate with at most two decimals and no trailing zeros ("12", "12.5", "12.25").
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A count with thousands separators ("1,234,567").
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A fraction as a percentage with one decimal ("41.7%").
    static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction.isFinite ? fraction * 100 : 0)
    }

    /// A compact value for axis ticks and tooltips: integers plainly, else 3 significant decimals.
    static func value(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return count(Int64(value)) }
        return String(format: abs(value) >= 100 ? "%.1f" : "%.3f", value)
    }

    /// "Nice" round tick values from 0 to at least `maximum` (about `count` ticks);
    /// whole numbers only when `integers` (counts).
    static func ticks(upTo maximum: Double, count: Int = 4, integers: Bool = false) -> [Double] {
        guard maximum > 0, maximum.isFinite else { return [0] }
        let rough = maximum / Double(max(1, count))
        let magnitude = pow(10, floor(log10(rough)))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? rough
        if integers { step = max(1, step.rounded(.up)) }
        var ticks: [Double] = []
        var tick = 0.0
        while tick < maximum + step * 0.999 {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }
}

/// A named series with its colour.
struct ChartSeries: Hashable {
    var name: String
    var color: String
    var values: [Double]
}

/// The opening tag of a chart: a fixed viewBox that scales to the page width,
/// a role and an accessible name.
private func svgOpen(kind: String, width: Double, height: Double, title: String) -> String {
    "<svg class=\"chart\" data-chart=\"\(HTMLText.escape(kind))\" xmlns=\"http://www.w3.org/2000/svg\" "
        + "viewBox=\"0 0 \(SVGFormat.number(width)) \(SVGFormat.number(height))\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\">"
        + "<title>\(HTMLText.escape(title))</title>"
}

private func text(
    _ content: String, x: Double, y: Double, anchor: String = "start", className: String = "label", extra: String = "", tooltip: String? = nil
) -> String {
    "<text class=\"\(className)\" x=\"\(SVGFormat.number(x))\" y=\"\(SVGFormat.number(y))\" text-anchor=\"\(anchor)\"\(extra)>"
        + HTMLText.escape(content) + (tooltip.map { "<title>\(HTMLText.escape($0))</title>" } ?? "") + "</text>"
}

private func rect(_ r: ChartRect, fill: String, title: String? = nil, className: String? = nil) -> String {
    let attributes = "x=\"\(SVGFormat.number(r.x))\" y=\"\(SVGFormat.number(r.y))\" width=\"\(SVGFormat.number(r.width))\" height=\"\(SVGFormat.number(r.height))\" fill=\"\(fill)\""
        + (className.map { " class=\"\($0)\"" } ?? "")
    guard let title else { return "<rect \(attributes)/>" }
    return "<rect \(attributes)><title>\(HTMLText.escape(title))</title></rect>"
}

private func legend(_ series: [ChartSeries], x: Double, y: Double) -> String {
    var parts: [String] = []
    var offset = x
    for item in series {
        parts.append(rect(ChartRect(x: offset, y: y - 9, width: 10, height: 10), fill: item.color))
        parts.append(text(item.name, x: offset + 14, y: y, className: "legend"))
        offset += 22 + Double(item.name.count) * 6.5
    }
    return parts.joined()
}

// MARK: Stacked area (progress over time)

/// Cumulative series stacked on top of each other over equal time steps: the
/// progress chart (records by status over time).
struct StackedAreaChart {
    var title: String
    /// One value per time step for every series (not cumulative; the chart accumulates).
    var series: [ChartSeries]
    /// Label under the first and last step.
    var startLabel: String
    var endLabel: String
    var width = 720.0
    var height = 260.0
    let margin = (left: 56.0, right: 16.0, top: 28.0, bottom: 32.0)

    /// The running totals per series, per step.
    var cumulative: [[Double]] {
        series.map { item in
            var total = 0.0
            return item.values.map { total += $0; return total }
        }
    }

    var steps: Int { series.map(\.values.count).max() ?? 0 }

    /// The top of the stack after the last step.
    var maximum: Double {
        let sums = cumulative
        return (0..<steps).map { step in sums.reduce(0) { $0 + ($1.indices.contains(step) ? $1[step] : $1.last ?? 0) } }.max() ?? 0
    }

    var xScale: LinearScale { LinearScale(domain: 0...Double(max(steps, 1)), range: (margin.left, width - margin.right)) }
    var yScale: LinearScale {
        LinearScale(domain: 0...(SVGFormat.ticks(upTo: maximum, integers: true).last ?? 1), range: (height - margin.bottom, margin.top))
    }

    /// For each series, the closed polygon between its lower and upper stack line;
    /// point `k` of a line is at the end of step `k − 1` (point 0 is the start, at 0).
    func polygons() -> [[(x: Double, y: Double)]] {
        let sums = cumulative
        let n = steps
        var lower = Array(repeating: 0.0, count: n + 1)
        var result: [[(x: Double, y: Double)]] = []
        for item in sums {
            var upper = lower
            for step in 0..<n {
                upper[step + 1] = lower[step + 1] + (item.indices.contains(step) ? item[step] : item.last ?? 0)
            }
            let top = (0...n).map { (x: xScale(Double($0)), y: yScale(upper[$0])) }
            let bottom = (0...n).reversed().map { (x: xScale(Double($0)), y: yScale(lower[$0])) }
            result.append(top + bottom)
            lower = upper
        }
        return result
    }

    func svg() -> String {
        var parts = [svgOpen(kind: "timeline", width: width, height: height, title: title)]
        for tick in SVGFormat.ticks(upTo: maximum, integers: true) {
            let y = yScale(tick)
            parts.append("<line class=\"grid\" x1=\"\(SVGFormat.number(margin.left))\" x2=\"\(SVGFormat.number(width - margin.right))\" y1=\"\(SVGFormat.number(y))\" y2=\"\(SVGFormat.number(y))\"/>")
            parts.append(text(SVGFormat.value(tick), x: margin.left - 6, y: y + 4, anchor: "end", className: "tick"))
        }
        for (item, polygon) in zip(series, polygons()) {
            let points = polygon.map { "\(SVGFormat.number($0.x)),\(SVGFormat.number($0.y))" }.joined(separator: " ")
            let total = item.values.reduce(0, +)
            parts.append("<polygon class=\"area\" points=\"\(points)\" fill=\"\(item.color)\"><title>\(HTMLText.escape("\(item.name): \(SVGFormat.value(total))"))</title></polygon>")
        }
        parts.append(text(startLabel, x: margin.left, y: height - 10, className: "tick"))
        parts.append(text(endLabel, x: width - margin.right, y: height - 10, anchor: "end", className: "tick"))
        parts.append(legend(series, x: margin.left, y: 16))
        parts.append("</svg>")
        return parts.joined()
    }
}

// MARK: Line chart (metrics over snapshots)

/// Lines over a shared x axis (e.g. diversity metrics against records seen).
struct LineChart {
    var title: String
    var xValues: [Double]
    var series: [ChartSeries]
    var xLabel: String
    var width = 720.0
    var height = 240.0
    let margin = (left: 56.0, right: 16.0, top: 28.0, bottom: 32.0)

    var xScale: LinearScale {
        LinearScale(domain: (xValues.min() ?? 0)...(max(xValues.max() ?? 1, (xValues.min() ?? 0))), range: (margin.left, width - margin.right))
    }

    var yScale: LinearScale {
        let top = series.flatMap(\.values).filter(\.isFinite).max() ?? 1
        return LinearScale(domain: 0...(SVGFormat.ticks(upTo: top).last ?? 1), range: (height - margin.bottom, margin.top))
    }

    /// The points of each series' polyline.
    func lines() -> [[(x: Double, y: Double)]] {
        series.map { item in zip(xValues, item.values).map { (x: xScale($0), y: yScale($1)) } }
    }

    func svg() -> String {
        var parts = [svgOpen(kind: "metrics-over-time", width: width, height: height, title: title)]
        let top = series.flatMap(\.values).filter(\.isFinite).max() ?? 1
        for tick in SVGFormat.ticks(upTo: top) {
            let y = yScale(tick)
            parts.append("<line class=\"grid\" x1=\"\(SVGFormat.number(margin.left))\" x2=\"\(SVGFormat.number(width - margin.right))\" y1=\"\(SVGFormat.number(y))\" y2=\"\(SVGFormat.number(y))\"/>")
            parts.append(text(SVGFormat.value(tick), x: margin.left - 6, y: y + 4, anchor: "end", className: "tick"))
        }
        for (item, line) in zip(series, lines()) {
            let points = line.map { "\(SVGFormat.number($0.x)),\(SVGFormat.number($0.y))" }.joined(separator: " ")
            parts.append("<polyline class=\"line\" points=\"\(points)\" fill=\"none\" stroke=\"\(item.color)\"><title>\(HTMLText.escape(item.name))</title></polyline>")
        }
        if let first = xValues.first, let last = xValues.last {
            parts.append(text(SVGFormat.value(first), x: margin.left, y: height - 10, className: "tick"))
            parts.append(text("\(SVGFormat.value(last)) \(xLabel)", x: width - margin.right, y: height - 10, anchor: "end", className: "tick"))
        }
        parts.append(legend(series, x: margin.left, y: 16))
        parts.append("</svg>")
        return parts.joined()
    }
}

// MARK: Horizontal bars (yield by axis value, reject reasons)

/// Labelled rows of side-by-side horizontal bars on a shared scale from 0.
struct HorizontalBarChart {
    struct Row: Hashable {
        var label: String
        /// One value per series.
        var values: [Double]
        /// Tooltip text of the row.
        var detail: String
    }

    var kind: String
    var title: String
    var series: [(name: String, color: String)]
    var rows: [Row]
    /// The value of a full-width bar; nil: the largest value.
    var maximum: Double?
    /// Formats a bar's value at its end.
    var format: (Double) -> String = SVGFormat.value
    var width = 720.0
    let labelWidth = 230.0
    let barHeight = 11.0
    let top = 28.0

    /// Each row holds one bar per series and a gap.
    var rowHeight: Double { barHeight * Double(max(1, series.count)) + 8 }

    var height: Double { top + Double(rows.count) * rowHeight + 8 }

    var scale: LinearScale {
        let top = maximum ?? (rows.flatMap(\.values).max() ?? 0)
        return LinearScale(domain: 0...max(top, 0), range: (labelWidth, width - 70))
    }

    /// Bars row by row: each row's height is shared by its series.
    func bars() -> [[ChartRect]] {
        rows.enumerated().map { offset, row in
            row.values.enumerated().map { index, value in
                ChartRect(
                    x: labelWidth, y: top + Double(offset) * rowHeight + 4 + Double(index) * barHeight,
                    width: max(0, scale(value) - labelWidth), height: barHeight
                )
            }
        }
    }

    func svg() -> String {
        var parts = [svgOpen(kind: kind, width: width, height: height, title: title)]
        for (row, bars) in zip(rows, bars()) {
            let y = (bars.first?.y ?? top) + (rowHeight - 8) / 2 + 4
            parts.append(text(HTMLText.truncated(row.label, to: 32), x: labelWidth - 8, y: y, anchor: "end", tooltip: row.label))
            for (index, bar) in bars.enumerated() {
                let item = series[min(index, series.count - 1)]
                parts.append(rect(bar, fill: item.color, title: "\(row.label) — \(item.name): \(format(row.values[index])). \(row.detail)", className: "bar"))
                parts.append(text(format(row.values[index]), x: bar.x + bar.width + 4, y: bar.y + bar.height - 2, className: "value"))
            }
        }
        if series.count > 1 { parts.append(legend(series.map { ChartSeries(name: $0.name, color: $0.color, values: []) }, x: labelWidth, y: 16)) }
        parts.append("</svg>")
        return parts.joined()
    }
}

// MARK: Columns (length histogram)

/// Vertical bars over equal bins.
struct ColumnChart {
    var kind: String
    var title: String
    var values: [Double]
    /// The label of each bin (tooltip) and the axis labels under the first and last bin.
    var binLabels: [String]
    var startLabel: String
    var endLabel: String
    var color = "#3f6fb5"
    var width = 720.0
    var height = 220.0
    let margin = (left: 56.0, right: 16.0, top: 16.0, bottom: 32.0)

    var yScale: LinearScale {
        LinearScale(domain: 0...(SVGFormat.ticks(upTo: values.max() ?? 0, integers: true).last ?? 1), range: (height - margin.bottom, margin.top))
    }

    /// One bar per bin, edge to edge with a 1-unit gap.
    func bars() -> [ChartRect] {
        let slot = (width - margin.left - margin.right) / Double(max(1, values.count))
        return values.enumerated().map { index, value in
            let y = yScale(value)
            return ChartRect(x: margin.left + Double(index) * slot, y: y, width: max(0, slot - 1), height: (height - margin.bottom) - y)
        }
    }

    func svg() -> String {
        var parts = [svgOpen(kind: kind, width: width, height: height, title: title)]
        for tick in SVGFormat.ticks(upTo: values.max() ?? 0, integers: true) {
            let y = yScale(tick)
            parts.append("<line class=\"grid\" x1=\"\(SVGFormat.number(margin.left))\" x2=\"\(SVGFormat.number(width - margin.right))\" y1=\"\(SVGFormat.number(y))\" y2=\"\(SVGFormat.number(y))\"/>")
            parts.append(text(SVGFormat.value(tick), x: margin.left - 6, y: y + 4, anchor: "end", className: "tick"))
        }
        for (index, bar) in bars().enumerated() {
            let label = binLabels.indices.contains(index) ? binLabels[index] : ""
            parts.append(rect(bar, fill: color, title: "\(label): \(SVGFormat.value(values[index]))", className: "bar"))
        }
        parts.append(text(startLabel, x: margin.left, y: height - 10, className: "tick"))
        parts.append(text(endLabel, x: width - margin.right, y: height - 10, anchor: "end", className: "tick"))
        parts.append("</svg>")
        return parts.joined()
    }
}

// MARK: Heatmap (coverage of two axes)

/// A grid of cells coloured by a value from 0 (light) to the largest value
/// (dark); cells with nothing generated are drawn as empty.
struct HeatmapChart {
    struct Cell: Hashable {
        /// The colour value (e.g. kept records); nil: no data in this cell.
        var value: Double?
        var detail: String
    }

    var title: String
    var rowLabels: [String]
    var columnLabels: [String]
    /// `cells[row][column]`.
    var cells: [[Cell]]
    var width = 720.0
    let labelWidth = 180.0
    let top = 16.0
    let bottomLabels = 90.0

    var cellWidth: Double { (width - labelWidth - 8) / Double(max(1, columnLabels.count)) }
    var cellHeight: Double { min(24, max(10, cellWidth)) }
    var height: Double { top + Double(rowLabels.count) * cellHeight + bottomLabels }
    var maximum: Double { cells.flatMap { $0.compactMap(\.value) }.max() ?? 0 }

    /// The rectangle of cell (row, column).
    func frame(row: Int, column: Int) -> ChartRect {
        ChartRect(x: labelWidth + Double(column) * cellWidth, y: top + Double(row) * cellHeight, width: cellWidth - 1, height: cellHeight - 1)
    }

    /// The fill of a value: a blue ramp in sRGB from #e8f0fa (0) to #08306b (maximum).
    func fill(_ value: Double?) -> String {
        guard let value else { return "#f4f4f4" }
        let t = maximum > 0 ? max(0, min(1, value / maximum)) : 0
        let from = (232.0, 240.0, 250.0)
        let to = (8.0, 48.0, 107.0)
        func channel(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", channel(from.0, to.0), channel(from.1, to.1), channel(from.2, to.2))
    }

    func svg() -> String {
        var parts = [svgOpen(kind: "heatmap", width: width, height: height, title: title)]
        for (row, label) in rowLabels.enumerated() {
            let y = top + Double(row) * cellHeight + cellHeight / 2 + 4
            parts.append(text(HTMLText.truncated(label, to: 28), x: labelWidth - 6, y: y, anchor: "end", tooltip: label))
        }
        for (column, label) in columnLabels.enumerated() {
            let x = labelWidth + Double(column) * cellWidth + cellWidth / 2
            let y = top + Double(rowLabels.count) * cellHeight + 6
            parts.append(text(HTMLText.truncated(label, to: 14), x: x, y: y, anchor: "end", className: "tick",
                              extra: " transform=\"rotate(-60 \(SVGFormat.number(x)) \(SVGFormat.number(y)))\"", tooltip: label))
        }
        for (row, line) in cells.enumerated() {
            for (column, cell) in line.enumerated() {
                parts.append(rect(frame(row: row, column: column), fill: fill(cell.value), title: cell.detail, className: "cell"))
            }
        }
        parts.append("</svg>")
        return parts.joined()
    }
}
