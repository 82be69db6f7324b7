import ArgumentParser
import Foundation
import PersonaForgeQueue
import PersonaForgeStore

/// `personaforge status [RUN] [--watch]`
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run's progress, yield and throughput, and the queues (depth, pending, workers, dead letters).",
        discussion: "Without RUN, shows the queues and the most recent runs. RUN may be a unique id prefix."
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Run id (or a unique prefix of at least 4 characters).")
    var run: String?

    @Flag(help: "Refresh until interrupted (or until the run ends).")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 2

    func run() async throws {
        let logger = service.logger("personaforge.status")
        let database = try await connections.openDatabase(logger: logger)
        let redis = try await connections.openRedis(logger: logger)
        let runs = RunRepository(connection: database)
        let terminal = isatty(STDOUT_FILENO) == 1
        while true {
            let queue = try await QueueStatus.read(redis: redis, layout: service.layout)
            var text: String
            var finished = false
            if let id = run {
                guard let status = try await RunStatus.read(id, database: database, runs: runs) else {
                    printToStandardError("error: no run '\(id)' (or the prefix matches several); list runs with `personaforge runs list`")
                    throw ExitCode(1)
                }
                let endpoints = (try? await EndpointHealth.read(
                    redis: redis, layout: service.layout, run: status.run.id, nowMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)
                )) ?? []
                text = status.text(queue: queue, endpoints: endpoints)
                finished = !status.run.state.isActive
            } else {
                text = "queues\n" + queue.text + "\n\nruns\n" + RunsCommand.List.table(try await runs.list(limit: 10))
            }
            if watch && terminal { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            print(text)
            if !watch || finished { break }
            if !terminal { print("") }
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
        }
    }
}

/// `personaforge runs list|pause|resume|cancel`
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs, or pause, resume or cancel one.",
        subcommands: [List.self, Pause.self, Resume.self, Cancel.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the most recent runs.")
        @OptionGroup var connections: ConnectionOptions
        @OptionGroup var service: ServiceOptions
        @Option(help: "How many runs.") var limit: Int = 20

        func run() async throws {
            let database = try await connections.openDatabase(logger: service.logger("personaforge.runs"))
            print(Self.table(try await RunRepository(connection: database).list(limit: limit)), terminator: "")
        }

        static func table(_ runs: [RunSummary]) -> String {
            if runs.isEmpty { return "no runs yet: submit one with `personaforge submit RUN.yaml`\n" }
            var text = "id                                    state      samples     kept  filtered  failed  name\n"
            for run in runs {
                text += run.id.padding(toLength: 38, withPad: " ", startingAt: 0)
                    + run.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + String(format: "%7lld %8lld %9lld %7lld  ", run.sampleCount, run.kept, run.filtered, run.failed)
                    + run.name + "\n"
            }
            return text
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop feeding a run's shards (queued shards still finish).")
        @OptionGroup var connections: ConnectionOptions
        @OptionGroup var service: ServiceOptions
        @Argument(help: "Run id or unique prefix.") var run: String
        func run() async throws { try await RunsCommand.transition(run, to: .paused, from: [.pending, .running], connections: connections, service: service) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume feeding a paused run.")
        @OptionGroup var connections: ConnectionOptions
        @OptionGroup var service: ServiceOptions
        @Argument(help: "Run id or unique prefix.") var run: String
        func run() async throws { try await RunsCommand.transition(run, to: .running, from: [.paused], connections: connections, service: service) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a run for good: no new shards; queued shards are skipped.")
        @OptionGroup var connections: ConnectionOptions
        @OptionGroup var service: ServiceOptions
        @Argument(help: "Run id or unique prefix.") var run: String
        func run() async throws { try await RunsCommand.transition(run, to: .cancelled, from: [.pending, .running, .paused], connections: connections, service: service) }
    }

    static func transition(_ id: String, to state: RunState, from: [RunState], connections: ConnectionOptions, service: ServiceOptions) async throws {
        let logger = service.logger("personaforge.runs")
        let database = try await connections.openDatabase(logger: logger)
        let redis = try await connections.openRedis(logger: logger)
        let runs = RunRepository(connection: database)
        guard let run = try await runs.summary(id: id) else {
            printToStandardError("error: no run '\(id)' (or the prefix matches several)")
            throw ExitCode(1)
        }
        guard try await runs.transition(run.id, to: state, from: from) else {
            printToStandardError("error: run \(run.id) is \(run.state.rawValue); it cannot become \(state.rawValue)")
            throw ExitCode(1)
        }
        try await RunControl(redis: redis, layout: service.layout).setState(state.rawValue, of: run.id)
        print("run \(run.id): \(run.state.rawValue) → \(state.rawValue)")
    }
}
