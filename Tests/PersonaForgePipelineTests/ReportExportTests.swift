import Foundation
import PersonaForgeTestSupport
import Testing
import PersonaForgeStore
import Yams

/// `report` and `export` on a real completed run (real model, Redis, PostgreSQL).
/// An extension of the serialized pipeline suite, so it never competes with the other
/// real-model runs for the one-thread local LLM.
extension PipelineTests {
    @Test func reportAndExportOfACompletedRealRun() async throws {
        let harness = try PipelineHarness(llm: nil)
        let config = harness.directory.appendingPathComponent("report.yaml").path
        try """
            name: report-export
            seed: \(UInt16.random(in: 0...UInt16.max))
            shard_size: 3
            axes:
              - name: persona
                source:
                  values: ["a sailor <b>bold</b>", "a nurse", "a baker", "a \\"quoted\\" tester"]
              - name: topic
                source:
                  values: [weather, food]
            model:
              max_tokens: 12
            steps:
              - name: question
                user: "You are {{persona}}. Ask one short question about {{topic}}."
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await harness.run(["run", config, "--workers", "2", "--progress-interval", "5"], timeout: .seconds(300))
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let counts = try await harness.counts(runID)
        #expect(counts.state == "completed")
        #expect(counts.records == 8)
        #expect(try await harness.run(["evaluate", runID, "--save"]).status == 0)

        // The terminal summary and the HTML page.
        let html = harness.directory.appendingPathComponent("report.html").path
        let report = try await harness.run(["report", runID, "--html", html])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.output.contains("outcome   kept \(counts.kept) "))
        #expect(report.output.contains("axis persona: 4 of 4 values used"))
        #expect(report.output.contains("axis topic: 2 of 2 values used"))
        // The reducer's live snapshots come first; evaluate --save's final one is the latest.
        let latest = report.output.firstMatch(of: /diversity \(latest of ([0-9]+) snapshots: final, ([0-9]+) kept records/)
        #expect(latest.flatMap { Int($0.2) } == counts.kept, "\(report.output.prefix(2000))")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for chart in ["timeline", "axis-yield", "heatmap"] {
            #expect(page.contains("data-chart=\"\(chart)\""), "no \(chart) chart")
        }
        #expect(page.components(separatedBy: "class=\"cell\"").count - 1 == 8)  // topic (2) × persona (4)
        #expect(page.contains("a sailor &lt;b&gt;bold&lt;/b&gt;"))
        #expect(!page.contains("<b>bold"))
        if counts.kept > 0 { #expect(page.contains("data-chart=\"length-histogram\"")) }
        // The same path again is refused without --force; --heatmap checks its axes.
        let again = try await harness.run(["report", runID, "--html", html])
        #expect(again.status == 1)
        #expect(again.output.contains("already exists; pass --force"))
        #expect(try await harness.run(["report", runID, "--html", html, "--force"]).status == 0)
        let badAxis = try await harness.run(["report", runID, "--heatmap", "topic,colour"])
        #expect(badAxis.status == 2)
        #expect(badAxis.output.contains("'colour' is not an axis of run \(runID) (its axes: persona, topic)"))

        // Export kept and filtered records, gzip by extension, with the dataset card beside it.
        let exportDirectory = harness.directory.appendingPathComponent("dataset")
        try FileManager.default.createDirectory(at: exportDirectory, withIntermediateDirectories: true)
        let output = exportDirectory.appendingPathComponent("records.jsonl.gz").path
        let export = try await harness.run(["export", runID, "--output", output, "--status", "kept,filtered"])
        #expect(export.status == 0, "\(export.output)")
        #expect(try Self.shell(["gzip", "-t", output]).status == 0)
        let lines = try Self.shell(["gzip", "-dc", output]).output.split(separator: "\n")
        #expect(lines.count == counts.kept + counts.filtered)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(["kept", "filtered"].contains(object["status"] as? String ?? ""))
            #expect(object["run_name"] as? String == "report-export")
            #expect((object["config_hash"] as? String)?.isEmpty == false)
            #expect(object["run_id"] as? String == runID)
            #expect((object["condition"] as? [[String: Any]])?.map { $0["axis"] as? String } == ["persona", "topic"])
        }
        let cardPath = exportDirectory.appendingPathComponent("README.md").path
        let card = try String(contentsOfFile: cardPath, encoding: .utf8)
        let front = try #require(try Yams.load(yaml: String(card.dropFirst(4)).components(separatedBy: "\n---\n")[0]) as? [String: Any])
        #expect(front["pretty_name"] as? String == "report-export")
        #expect(front["size_categories"] as? [String] == ["n<1K"])
        #expect(front["license"] as? String == "unknown")
        let files = (front["configs"] as? [[String: Any]])?.first?["data_files"] as? [[String: Any]]
        #expect(files?.first?["path"] as? String == "records.jsonl.gz")
        #expect(card.contains("| exported | \(lines.count) | |"))
        #expect(card.contains("| kept | \(counts.kept) |"))
        #expect(card.contains("| persona | 4 | 4 | 0 |"))
        #expect(card.contains("name: report-export"))  // the run config, verbatim
        #expect(card.contains("distinct_1"))  // the metrics of the snapshot

        // Refusals say what to do; nothing is left behind.
        let existing = try await harness.run(["export", runID, "--output", output])
        #expect(existing.status == 1)
        #expect(existing.output.contains("'\(output)' already exists; pass --force"))
        #expect(try await harness.run(["export", runID, "--output", output, "--force", "--status", "all"]).status == 0)
        #expect(try Self.shell(["gzip", "-dc", output]).output.split(separator: "\n").count == counts.records)
        let missingDirectory = try await harness.run(["export", runID, "--output", harness.directory.path + "/no/such/dir/x.jsonl"])
        #expect(missingDirectory.status == 1)
        #expect(missingDirectory.output.contains("does not exist; create it first"))
        let unknown = try await harness.run(["export", "ffffffff-ffff-4fff-8fff-ffffffffffff", "--output", harness.directory.path + "/u.jsonl"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("no run 'ffffffff-ffff-4fff-8fff-ffffffffffff'"))
        let badStatus = try await harness.run(["export", runID, "--output", harness.directory.path + "/s.jsonl", "--status", "kept,dupes"])
        #expect(badStatus.status != 0)
        #expect(badStatus.output.contains("unknown status 'dupes'"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: exportDirectory.path).filter { $0.contains(".partial-") }
        #expect(leftovers.isEmpty)
    }

    static func shell(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension PipelineTests {
    /// The report's queries on an axis too large to show whole: the heatmap buckets it,
    /// the yield list keeps the lowest 30, and every count adds up to the run's records.
    @Test func reportQueriesBucketLargeAxesAndAddUp() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let config = harness.directory.appendingPathComponent("wide.yaml").path
        let personas = (0..<50).map { "\"persona \($0)\"" }.joined(separator: ", ")
        try """
            name: report-wide
            seed: \(UInt16.random(in: 0...UInt16.max))
            shard_size: 25
            axes:
              - name: persona
                source:
                  values: [\(personas)]
              - name: topic
                source:
                  values: [weather, food, money]
            steps:
              - name: question
                user: "You are {{persona}}. Ask about {{topic}}."
            filters:
              forbidden_patterns: ["food"]
            dedup:
              enabled: false
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await harness.run(["run", config, "--workers", "2", "--progress-interval", "5"], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let counts = try await harness.counts(runID)
        #expect(counts.records == 150)

        let database = try await harness.database()
        let summary = try #require(try await RunRepository(connection: database).summary(id: runID))
        let report = try await RunReportQueries(connection: database).report(for: summary)
        await database.close()
        let heatmap = try #require(report.heatmap)
        #expect(heatmap.rowAxis == "topic" && heatmap.columnAxis == "persona")
        #expect(heatmap.rows.map(\.label) == ["weather", "food", "money"])
        #expect(heatmap.columns.count == 40)  // 50 personas in 40 ranges of 1 or 2
        #expect(heatmap.columns.first?.first == 0 && heatmap.columns.last?.last == 49)
        #expect(zip(heatmap.columns, heatmap.columns.dropFirst()).allSatisfy { $0.last + 1 == $1.first })
        #expect(heatmap.columns.contains { $0.label == "#0–#1" })
        #expect(heatmap.cells.joined().reduce(0) { $0 + $1.generated } == 150)
        #expect(heatmap.cells.joined().reduce(0) { $0 + $1.kept } == Int64(counts.kept))
        // Every cell of a 2-wide range holds 2 conditions × 1 sample.
        for (column, band) in heatmap.columns.enumerated() {
            for row in heatmap.cells { #expect(row[column].generated == band.last - band.first + 1) }
        }
        let persona = try #require(report.axes.first { $0.axis == "persona" })
        #expect(persona.size == 50 && persona.valuesSeen == 50 && persona.valuesUnseen == 0)
        #expect(persona.values.count == 30 && !persona.allValues)
        #expect(report.timeline.buckets.reduce(0) { $0 + $1.total } == 150)
        #expect(report.lengths.counts.reduce(0, +) == Int64(counts.kept))
        #expect(report.samples.count <= 7)

        // The fixture echoes the prompt, so exactly the 50 "food" records are filtered, for one reason.
        #expect(counts.filtered == 50)
        let topic = try #require(report.axes.first { $0.axis == "topic" })
        let food = try #require(topic.values.first { $0.label == "food" })
        #expect(food.counts.filtered == 50)
        #expect(food.rejectReasons == [.init(status: "filtered", reason: "forbidden_pattern", records: 50)])
        #expect(topic.values.filter { $0.label != "food" }.allSatisfy { $0.rejectReasons.isEmpty && $0.counts.filtered == 0 })
        for value in persona.values + persona.leastCovered {
            #expect(value.rejectReasons.reduce(0) { $0 + $1.records } == value.counts.filtered + value.counts.failed)
            #expect(value.rejectReasons.map(\.reason) == ["forbidden_pattern"])
        }
    }
}
