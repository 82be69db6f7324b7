import ArgumentParser
import Foundation
import PersonaForgeStore

/// `personaforge report RUN [--html FILE]`
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize a run: counts, yield, reject reasons, duplicates, tokens, diversity, coverage and sample records.",
        discussion: """
            Prints a terminal summary. With --html FILE also writes one self-contained HTML page \
            (inline SVG charts and CSS, no scripts, nothing fetched from the network): progress over \
            time, yield and duplicate rate by axis value, a coverage heatmap of two axes, the length \
            histogram, the metrics table, reject reasons and sample records. Queries are bounded \
            (server-side GROUP BY and LIMIT), so a report of a huge run stays small. Diversity comes \
            from the latest metric snapshot (`personaforge evaluate RUN --save`).
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Run id or unique prefix.")
    var run: String

    @Option(help: ArgumentHelp("Also write the HTML report to this file ('-': only the page, to standard output).", valueName: "file"))
    var html: String?

    @Flag(help: "Replace the HTML file if it exists.")
    var force = false

    @Option(help: ArgumentHelp("The heatmap's two axes, row then column (default: the run's second and first axis).", valueName: "row,column"))
    var heatmap: String?

    @Option(help: "Sample records shown: this many kept ones (and up to 3 rejected ones).")
    var samples: Int = 4

    func validate() throws {
        if let heatmap, heatmap.split(separator: ",", omittingEmptySubsequences: false).count != 2 {
            throw ValidationError("--heatmap takes two axis names separated by a comma, e.g. --heatmap topic,persona")
        }
        guard samples >= 0 else { throw ValidationError("--samples must be 0 or more") }
    }

    func run() async throws {
        let database = try await connections.openDatabase(logger: service.logger("personaforge.report"))
        guard let summary = try await RunRepository(connection: database).summary(id: run) else {
            printToStandardError("error: no run '\(run)' (or the prefix matches several); list runs with `personaforge runs list`")
            throw ExitCode(1)
        }
        var destination: OutputDestination?
        if let html {
            do {
                destination = try OutputDestination.check(html, force: force, what: "HTML report")
            } catch {
                printToStandardError("error: \(error)")
                throw ExitCode(1)
            }
        }
        var options = RunReportQueries.Options()
        options.keptSamples = samples
        if let heatmap {
            let names = heatmap.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            options.heatmapAxes = (names[0], names[1])
        }
        let report: RunReport
        do {
            report = try await RunReportQueries(connection: database).report(for: summary, options: options)
        } catch let error as RunReportError {
            printToStandardError("error: \(error)")
            throw ExitCode(2)
        }
        // `--html -` puts the page alone on standard output (to pipe it somewhere).
        if destination?.isStandardOutput != true {
            print(RunReportText.render(report), terminator: "")
        }
        if let destination {
            let generated = ISO8601DateFormatter().string(from: Date())
            do {
                let file = try ExportFile(destination, gzip: false)
                try file.write(RunReportPage.render(report, generatedAt: generated))
                try file.commit()
            } catch {
                printToStandardError("error: \(error)")
                throw ExitCode(1)
            }
            if !destination.isStandardOutput {
                printToStandardError("wrote the HTML report of run \(summary.id) to \(destination.path)")
            }
        }
    }
}
