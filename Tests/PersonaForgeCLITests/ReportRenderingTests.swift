import Foundation
@testable import PersonaForgeCLI
@testable import PersonaForgeStore
import Testing
import Yams

/// The pure parts of `report` and `export`: escaping, chart geometry on
/// hand-computed inputs, empty and one-value runs, the dataset card.
@Suite struct ReportRenderingTests {
    static func summary(name: String = "tiny", kept: Int64 = 0, filtered: Int64 = 0, duplicate: Int64 = 0) -> RunSummary {
        RunSummary(id: "0f0e0d0c-0000-4000-8000-000000000001", name: name, state: .completed, model: "m", sampleCount: kept + filtered + duplicate,
                   shardCount: 1, shardsDone: 1, kept: kept, filtered: filtered, duplicate: duplicate, createdAt: "2026-12-02 01:00:00+00")
    }

    static let hostile = [
        "</script><script>alert(1)</script>", "<svg onload=alert(1)>", "\"><img src=x onerror=alert(1)>",
        "it's a 'quote' & \"double\"", "naïve 日本語 🎉 café", "ctrl\u{0}\u{1B}[31m\u{7F}",
    ]

    // MARK: Escaping

    @Test(arguments: hostile) func escapedTextHasNoMarkupCharacters(_ text: String) {
        let escaped = HTMLText.escape(text)
        #expect(!escaped.contains("<"))
        #expect(!escaped.contains(">"))
        #expect(!escaped.contains("\""))
        #expect(!escaped.contains("'"))
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" })
        // Decoding the five references gives the text back (controls aside).
        let decoded = escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
        if !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { #expect(decoded == text) }
    }

    @Test func escapingKeepsUnicodeAndReplacesControls() {
        #expect(HTMLText.escape("naïve 日本語 🎉") == "naïve 日本語 🎉")
        #expect(HTMLText.escape("a\u{0}b\u{1B}c\u{85}d") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d")
        #expect(HTMLText.escape("<a href='x'>&</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;")
    }

    /// A report whose every text field is hostile.
    static func hostileReport() -> RunReport {
        var report = RunReport(run: summary(name: hostile[0], kept: 3, filtered: 1))
        report.configYAML = "name: \"</script>\"\n# <svg onload=alert(1)>"
        report.rejectReasons = [.init(status: "filtered", reason: hostile[1], count: 1)]
        report.timeline = .init(bucketSeconds: 1, start: hostile[2], buckets: [.init(kept: 2, filtered: 1), .init(kept: 1)])
        report.snapshots = [.init(takenAt: hostile[3], recordsSeen: 3, isFinal: true, metrics: [hostile[1]: 1, "distinct_1": 0.5])]
        let values = hostile.enumerated().map { index, label in
            RunReport.AxisValueStats(index: Int64(index), label: label, counts: .init(kept: 1, filtered: 1))
        }
        report.axes = [.init(axis: hostile[2], size: 6, valuesSeen: 6, values: values, allValues: true, leastCovered: values)]
        report.heatmap = .init(
            rowAxis: hostile[0], columnAxis: hostile[1],
            rows: [.init(label: hostile[1], first: 0, last: 0)], columns: [.init(label: hostile[2], first: 0, last: 0)],
            cells: [[.init(generated: 2, kept: 1)]])
        report.lengths = .init(lowerBound: 10, binWidth: 5, counts: [1, 2])
        report.samples = [.init(position: 0, sample: 0, status: "kept", reason: hostile[3], condition: [(hostile[4], hostile[0])], text: hostile.joined(separator: "\n"))]
        report.generation = .init(model: hostile[1], api: "chat", temperature: 0.7, topP: 1, maxTokens: 16, samplesPerCondition: 1, limit: nil,
                                  steps: [.init(name: hostile[0], system: hostile[1], user: hostile[2])], dedupEnabled: true, dedupThreshold: 0.8)
        return report
    }

    @Test func hostileTextCannotInjectMarkupIntoThePage() {
        let page = RunReportPage.render(Self.hostileReport(), generatedAt: Self.hostile[0])
        #expect(!page.lowercased().contains("<script"))
        #expect(!page.contains("<svg onload"))
        #expect(!page.contains("<img"))
        #expect(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("naïve 日本語 🎉 café"))
        // Every <svg is one of our charts, every <title> opened is closed.
        #expect(page.components(separatedBy: "<svg").count == page.components(separatedBy: "<svg class=\"chart\"").count)
        #expect(page.components(separatedBy: "<title>").count == page.components(separatedBy: "</title>").count)
        // Self-contained: nothing is fetched, nothing runs.
        #expect(page.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        #expect(!page.contains("src=\""))
        #expect(!page.contains("href=\""))
        #expect(!page.contains("<link"))
        #expect(!page.contains("url("))
        for chart in ["timeline", "reject-reasons", "axis-yield", "heatmap", "length-histogram"] {
            #expect(page.contains("data-chart=\"\(chart)\""), "missing chart \(chart)")
        }
    }

    @Test func hostileTextCannotInjectTerminalEscapes() {
        let text = RunReportText.render(Self.hostileReport())
        #expect(!text.contains("\u{1B}"))
        #expect(!text.contains("\u{0}"))
    }

    // MARK: Geometry

    @Test func linearScaleMapsAndSurvivesADegenerateDomain() {
        let scale = LinearScale(domain: 0...10, range: (100, 0))
        #expect(scale(0) == 100)
        #expect(scale(2.5) == 75)
        #expect(scale(10) == 0)
        #expect(LinearScale(domain: 5...5, range: (3, 9))(5) == 3)
        #expect(LinearScale(domain: 0...1, range: (3, 9))(.nan) == 3)
    }

    @Test func ticksAreRoundAndCoverTheMaximum() {
        #expect(SVGFormat.ticks(upTo: 4, integers: true) == [0, 1, 2, 3, 4])
        #expect(SVGFormat.ticks(upTo: 2, integers: true) == [0, 1, 2])
        #expect(SVGFormat.ticks(upTo: 1) == [0, 0.25, 0.5, 0.75, 1])
        #expect(SVGFormat.ticks(upTo: 950) == [0, 250, 500, 750, 1000])
        #expect(SVGFormat.ticks(upTo: 0) == [0])
        #expect(SVGFormat.number(12.500) == "12.5")
        #expect(SVGFormat.number(-0.001) == "0")
        #expect(SVGFormat.count(1234567) == "1,234,567")
    }

    @Test func columnHeightsAreProportional() {
        // Plot from y = 16 to y = 188 (height 220, bottom margin 32); ticks 0, 1, 2.
        let chart = ColumnChart(kind: "k", title: "t", values: [1, 2], binLabels: ["a", "b"], startLabel: "", endLabel: "")
        let bars = chart.bars()
        #expect(bars == [ChartRect(x: 56, y: 102, width: 323, height: 86), ChartRect(x: 380, y: 16, width: 323, height: 172)])
    }

    @Test func stackedAreasAccumulateOverTimeAndStack() {
        let chart = StackedAreaChart(
            title: "t", series: [ChartSeries(name: "kept", color: "#000", values: [1, 1]), ChartSeries(name: "filtered", color: "#111", values: [0, 2])],
            startLabel: "", endLabel: "")
        #expect(chart.cumulative == [[1, 2], [0, 2]])
        #expect(chart.maximum == 4)
        let polygons = chart.polygons().map { $0.map { [$0.x, $0.y] } }
        // x: 56 … 704 over 2 steps; y: 228 (0) … 28 (4), 50 per record.
        #expect(polygons[0] == [[56, 228], [380, 178], [704, 128], [704, 228], [380, 228], [56, 228]])
        #expect(polygons[1] == [[56, 228], [380, 178], [704, 28], [704, 128], [380, 178], [56, 228]])
    }

    @Test func horizontalBarsScaleToTheMaximum() {
        let chart = HorizontalBarChart(kind: "k", title: "t", series: [("yield", "#0"), ("dup", "#1")],
                                       rows: [.init(label: "a", values: [0.5, 0], detail: ""), .init(label: "b", values: [1, 0.25], detail: "")], maximum: 1)
        let bars = chart.bars()
        // Bars run from x = 230 to 650 for 0…1; rows are 2 · 11 + 8 = 30 high from y = 28.
        #expect(bars[0] == [ChartRect(x: 230, y: 32, width: 210, height: 11), ChartRect(x: 230, y: 43, width: 0, height: 11)])
        #expect(bars[1] == [ChartRect(x: 230, y: 62, width: 420, height: 11), ChartRect(x: 230, y: 73, width: 105, height: 11)])
        #expect(chart.height == 28 + 60 + 8)
    }

    @Test func metricLinesFollowSnapshots() {
        let chart = LineChart(title: "t", xValues: [0, 50, 100], series: [ChartSeries(name: "distinct_1", color: "#0", values: [1, 0.5, 0.25])], xLabel: "records")
        // x: 56 … 704 over 0…100; y: 208 (0) … 28 (1).
        #expect(chart.lines()[0].map { [$0.x, $0.y] } == [[56, 28], [380, 118], [704, 163]])
    }

    @Test func liveSnapshotsAddAMetricsOverTimeChart() {
        var report = RunReport(run: Self.summary(kept: 2))
        report.timeline = .init(bucketSeconds: 1, start: "s", buckets: [.init(kept: 2)])
        report.snapshots = [
            .init(takenAt: "t1", recordsSeen: 1, isFinal: false, metrics: ["distinct_1": 1, "homogenization_rougel": 0]),
            .init(takenAt: "t2", recordsSeen: 2, isFinal: true, metrics: ["distinct_1": 0.75, "homogenization_rougel": 0.5]),
        ]
        let page = RunReportPage.render(report, generatedAt: "now")
        #expect(page.contains("data-chart=\"metrics-over-time\""))
        #expect(page.contains("Latest of 2 snapshots: final, taken t2"))
        #expect(page.components(separatedBy: "<polyline").count - 1 == 2)
        report.snapshots.removeFirst()
        #expect(!RunReportPage.render(report, generatedAt: "now").contains("metrics-over-time"))
    }

    @Test func heatmapCellsAndColours() {
        let chart = HeatmapChart(title: "t", rowLabels: ["r0", "r1"], columnLabels: ["a", "b", "c", "d"],
                                 cells: [[.init(value: 0, detail: ""), .init(value: 4, detail: ""), .init(value: nil, detail: ""), .init(value: 2, detail: "")],
                                         [.init(value: 1, detail: ""), .init(value: 1, detail: ""), .init(value: 1, detail: ""), .init(value: 1, detail: "")]])
        // (720 − 180 − 8) / 4 = 133 wide, 24 high.
        #expect(chart.frame(row: 1, column: 2) == ChartRect(x: 446, y: 40, width: 132, height: 23))
        #expect(chart.fill(nil) == "#f4f4f4")
        #expect(chart.fill(0) == "#e8f0fa")
        #expect(chart.fill(4) == "#08306b")
        #expect(chart.fill(2) == "#7890b3")  // halfway: (232+8)/2, (240+48)/2, (250+107)/2 rounded
        #expect(chart.svg().components(separatedBy: "class=\"cell\"").count - 1 == 8)
    }

    @Test func bandsPartitionAnAxisAsTheQueryBucketsIt() {
        #expect(RunReportQueries.bands(size: 10, count: 4).map { [$0.first, $0.last] } == [[0, 2], [3, 4], [5, 7], [8, 9]])
        #expect(RunReportQueries.bands(size: 1, count: 1).map { [$0.first, $0.last] } == [[0, 0]])
        #expect(RunReportQueries.bands(size: 0, count: 0).isEmpty)
        for size in Int64(1)...60 {
            for count in Int64(1)...min(size, 13) {
                let bands = RunReportQueries.bands(size: size, count: count)
                for index in 0..<size {
                    // The SQL puts value `index` in band index · count / size.
                    let band = Int(index * count / size)
                    #expect(bands[band].first <= index && index <= bands[band].last, "size \(size), count \(count), index \(index)")
                }
            }
        }
    }

    // MARK: Empty and one-value runs

    @Test func anEmptyRunRendersWithoutCharts() {
        let report = RunReport(run: Self.summary())
        let page = RunReportPage.render(report, generatedAt: "now")
        #expect(!page.contains("data-chart="))
        #expect(page.contains("No records stored yet."))
        #expect(page.contains("No metric snapshot yet"))
        #expect(page.hasSuffix("</html>\n"))
        let text = RunReportText.render(report)
        #expect(text.contains("outcome   kept 0 (yield –)"))
        #expect(text.contains("diversity: no snapshot yet"))
    }

    @Test func oneValueAxesRenderOneBarOneCellOneBin() {
        var report = RunReport(run: Self.summary(kept: 1))
        report.timeline = .init(bucketSeconds: 1, start: "s", buckets: [.init(kept: 1)])
        let only = RunReport.AxisValueStats(index: 0, label: "only", counts: .init(kept: 1))
        report.axes = [.init(axis: "persona", size: 1, valuesSeen: 1, values: [only], allValues: true, leastCovered: [only]),
                       .init(axis: "topic", size: 1, valuesSeen: 1, values: [only], allValues: true, leastCovered: [only])]
        report.heatmap = .init(rowAxis: "topic", columnAxis: "persona", rows: [.init(label: "only", first: 0, last: 0)],
                               columns: [.init(label: "only", first: 0, last: 0)], cells: [[.init(generated: 1, kept: 1)]])
        report.lengths = .init(lowerBound: 7, binWidth: 1, counts: [1])
        let page = RunReportPage.render(report, generatedAt: "now")
        #expect(page.components(separatedBy: "class=\"cell\"").count - 1 == 1)
        #expect(page.components(separatedBy: "data-chart=\"axis-yield\"").count - 1 == 2)
        #expect(page.contains("100.0%"))
        #expect(!page.contains("=\"nan") && !page.contains(",nan") && !page.contains("nan,"))
        let columns = ColumnChart(kind: "k", title: "t", values: [1], binLabels: ["7 chars"], startLabel: "", endLabel: "").bars()
        #expect(columns == [ChartRect(x: 56, y: 16, width: 647, height: 172)])
    }

    // MARK: Dataset card

    @Test(arguments: [(Int64(0), "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (99_999, "10K<n<100K"), (1_000_000, "1M<n<10M"), (2_000_000_000_000, "n>1T")])
    func sizeCategories(count: Int64, category: String) {
        #expect(DatasetCard.sizeCategory(count) == category)
    }

    @Test func cardFrontMatterIsYAMLWithTheCounts() throws {
        var report = Self.hostileReport()
        report.run.name = "name with \"quotes\", colons: and # hashes\nand a newline ```"
        let card = DatasetCard(report: report, dataFile: "data/kept.jsonl.gz", exported: 1234, statuses: ["kept"], languages: ["en", "de"], generatedAt: "now")
        let markdown = card.markdown
        #expect(markdown.hasPrefix("---\n"))
        let parts = markdown.components(separatedBy: "\n---\n")
        let front = try #require(try Yams.load(yaml: String(parts[0].dropFirst(4))) as? [String: Any])
        #expect(front["pretty_name"] as? String == report.run.name)
        #expect(front["license"] as? String == "unknown")
        #expect(front["language"] as? [String] == ["en", "de"])
        #expect(front["size_categories"] as? [String] == ["1K<n<10K"])
        #expect(front["task_categories"] as? [String] == ["text-generation"])
        #expect((front["tags"] as? [String])?.contains("synthetic") == true)
        let configs = try #require(front["configs"] as? [[String: Any]])
        let files = try #require(configs.first?["data_files"] as? [[String: Any]])
        #expect(files.first?["path"] as? String == "data/kept.jsonl.gz")
        #expect(files.first?["split"] as? String == "train")
        // The body: counts, the config in a fence its backticks cannot close, no raw markup.
        #expect(markdown.contains("| exported | 1234 | |"))
        #expect(markdown.contains("## Limitations"))
        // Raw markup only inside code (fences and spans), which Markdown renderers escape.
        let prose = Self.outsideCode(String(parts.dropFirst().joined(separator: "\n---\n")))
        #expect(!prose.contains("<"))
        #expect(prose.contains("&lt;svg onload=alert(1)&gt;"))
        #expect(DatasetCard.fenced("a ```` b").hasPrefix("`````\n"))
    }

    /// Markdown with fenced blocks and code spans removed.
    static func outsideCode(_ markdown: String) -> String {
        var prose: [Substring] = []
        var fence: Substring?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let ticks = line.prefix { $0 == "`" }
            if let open = fence {
                if ticks.count >= open.count && line.allSatisfy({ $0 == "`" }) { fence = nil }
                continue
            }
            if ticks.count >= 3 { fence = ticks; continue }
            prose.append(line)
        }
        return prose.joined(separator: "\n").replacing(/`+[^`]*`+/, with: "")
    }

    @Test(arguments: hostile + ["", "- not a list", "key: value", "tab\there", "back\\slash"])
    func yamlQuotedScalarsRoundTrip(_ text: String) throws {
        let parsed = try Yams.load(yaml: "value: \(DatasetCard.yamlQuoted(text))\n") as? [String: Any]
        #expect(parsed?["value"] as? String == text)
    }

    @Test func snapshotsKeepOnlyNumericMetrics() {
        let metrics = RunReportQueries.numericMetrics(#"{"distinct_1": 0.5, "records": 12, "live": true, "note": "x", "nested": {"a": 1}}"#)
        #expect(metrics == ["distinct_1": 0.5, "records": 12])
        #expect(RunReportQueries.numericMetrics("not json").isEmpty)
    }

    @Test func exportStatusesAreParsedAndChecked() throws {
        #expect(try ExportCommand.statuses("kept") == ["kept"])
        #expect(try ExportCommand.statuses("duplicate, KEPT") == ["kept", "duplicate"])
        #expect(try ExportCommand.statuses("all") == ["kept", "filtered", "failed", "duplicate"])
        #expect(throws: (any Error).self) { try ExportCommand.statuses("kept,dupes") }
        #expect(ExportCommand.dataFile(output: "/a/b/c/kept.jsonl.gz", card: "/a/b/README.md") == "c/kept.jsonl.gz")
        #expect(ExportCommand.dataFile(output: "/x/kept.jsonl", card: "/a/README.md") == "kept.jsonl")
    }
}
