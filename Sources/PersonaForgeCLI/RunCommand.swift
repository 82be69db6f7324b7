import ArgumentParser
import Foundation
import Logging
import PersonaForgeCoordinator
import PersonaForgeHTTP
import PersonaForgeObservability
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeReducer
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeWorker

/// `personaforge run RUN.yaml`: the whole pipeline in one process, for a laptop or a test.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit a run and execute it in this process: coordinator, N workers and reducer.",
        discussion: """
            Uses the same Redis and PostgreSQL as the distributed services (and can run \
            beside them). If the same config was submitted before and is still active, it \
            continues that run; a finished one is shown unless --new is given. Exits when \
            the run is completed or cancelled, printing a summary. Serves /metrics, /health \
            and /ready on --metrics-port like the services; SIGTERM drains like them.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "The run config (YAML).")
    var config: String

    @Option(help: "Workers in this process.")
    var workers: Int = 2

    @Option(help: "LLM requests in flight per worker.")
    var concurrency: Int = 4

    @Flag(help: "Start a new run even if this config ran before.")
    var new = false

    @Option(help: "Seconds between progress lines.")
    var progressInterval: Double = 5

    @Option(help: "How many kept records to show at the end.")
    var show: Int = 3

    func run() async throws {
        try await service.withObservability("run") { observed in try await execute(observed) }
    }

    private func execute(_ observed: ServiceOptions.Observed) async throws -> ShutdownOutcome {
        let logger = observed.logger
        let layout = service.layout
        let submission = RunSubmission(configPath: config, name: nil, allowDuplicate: new)
        let validated = try submission.validate()
        let database = try await connections.openDatabase(logger: logger)
        let control = try await connections.openRedis(logger: logger)
        let runs = RunRepository(connection: database)

        let summary: RunSummary
        switch try await submission.submit(validated, runs: runs, control: RunControl(redis: control, layout: layout)) {
        case .created(let run):
            summary = run
            print("submitted run \(run.id): \(run.sampleCount) samples in \(run.shardCount) shards")
        case .existing(let run) where run.state.isActive:
            summary = run
            print("continuing run \(run.id) (\(run.state.rawValue))")
        case .existing(let run):
            print("this config already ran as \(run.id) (\(run.state.rawValue)); use --new to run it again\n")
            try await printSummary(run.id, database: database, runs: runs, redis: control)
            return .drained
        }
        observed.health.addReadinessCheck(try ReadinessProbes.redis(connections, logger: logger))
        observed.health.addReadinessCheck(ReadinessProbes.postgres(connections, logger: logger))
        observed.health.setStartupStep(nil)

        let shutdown = observed.shutdown
        let factory = observed.metrics
        let health = observed.health
        let http = HTTPClient(configuration: Worker.httpConfiguration, logger: logger)
        defer { http.shutdown() }
        let endpoint = try connections.endpointOverride()
        let lease: Duration = .seconds(30)

        let outcome = try await withThrowingTaskGroup(of: ShutdownOutcome.self) { group in
            let coordinator = Coordinator(
                redis: try await connections.openRedis(logger: logger), runs: runs, layout: layout,
                settings: CoordinatorSettings(highWaterMark: max(4, workers * 2), shardLease: lease, name: ServiceOptions.processName("coordinator")),
                logger: service.logger("personaforge.coordinator"),
                metrics: CoordinatorMetrics(factory: factory), heartbeat: health.register("coordinator")
            )
            group.addTask { try await coordinator.run(until: shutdown) }
            for _ in 0..<max(1, workers) {
                let worker = Worker(
                    redis: try await connections.openRedis(logger: logger), runs: RunRepository(connection: try await connections.openDatabase(logger: logger)),
                    layout: layout,
                    settings: WorkerSettings(name: ServiceOptions.processName("worker"), maxConcurrency: concurrency, shardLease: lease, gracePeriod: observed.gracePeriod),
                    http: http, endpointOverride: endpoint, logger: service.logger("personaforge.worker"),
                    metrics: WorkerMetrics(factory: factory), heartbeat: health.register("worker")
                )
                group.addTask { try await worker.run(until: shutdown) }
            }
            let reducer = Reducer(
                redis: try await connections.openRedis(logger: logger), writer: RecordWriter(
                    connection: try await connections.openDatabase(logger: logger), bandIndex: try BandIndexOption.index(nil, namespace: layout.namespace)),
                layout: layout, settings: ReducerSettings(name: ServiceOptions.processName("reducer")),
                logger: service.logger("personaforge.reducer"),
                metrics: ReducerMetrics(factory: factory), heartbeat: health.register("reducer")
            )
            group.addTask { try await reducer.run(until: shutdown) }
            group.addTask {
                // Progress until the run ends, then stop everything.
                while !shutdown.isRequested {
                    await shutdown.sleep(for: .milliseconds(Int64(progressInterval * 1000)))
                    guard let status = try await RunStatus.read(summary.id, database: database, runs: runs) else { break }
                    let r = status.run
                    print("\(RunStatus.bar(r.sampleCount > 0 ? Double(r.accounted) / Double(r.sampleCount) : 1, width: 24)) \(r.accounted)/\(r.sampleCount)  kept \(r.kept) filtered \(r.filtered) failed \(r.failed)  \(String(format: "%.2f", status.recordsPerSecond)) rec/s \(String(format: "%.0f", status.tokensPerSecond)) tok/s  [\(r.state.rawValue)]")
                    if !r.state.isActive { shutdown.request() }
                }
                return .drained
            }
            var outcome = ShutdownOutcome.drained
            for try await ended in group where ended == .graceExpired { outcome = .graceExpired }
            return outcome
        }
        print("")
        try await printSummary(summary.id, database: database, runs: runs, redis: control)
        return outcome
    }

    private func printSummary(_ id: String, database: PostgresConnection, runs: RunRepository, redis: RedisConnection) async throws {
        guard let status = try await RunStatus.read(id, database: database, runs: runs) else { return }
        print(status.text(queue: nil))
        let rows = try await database.query("""
            SELECT position, sample, text, condition::text AS condition FROM records
            WHERE run_id = $1::uuid AND status = 'kept' ORDER BY position, sample LIMIT $2
            """, [status.run.id, String(show)])
        if !rows.isEmpty { print("\nsample records:") }
        for row in rows {
            let persona = Self.conditionSummary(row["condition"].string ?? "")
            print("\n— position \(row["position"].string ?? "?") sample \(row["sample"].string ?? "?")  \(persona)")
            print((row["text"].string ?? "").split(separator: "\n", omittingEmptySubsequences: false).prefix(12).map { "  " + $0 }.joined(separator: "\n"))
        }
        print("\nexport with: personaforge export \(status.run.id) --output \(status.run.name).jsonl")
    }

    /// "persona: a beekeeper who…" from the stored condition JSON.
    static func conditionSummary(_ json: String) -> String {
        guard let items = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return "" }
        return items.compactMap { item -> String? in
            guard let axis = item["axis"] as? String, let value = item["value"] as? [String: Any], let text = value["text"] as? String else { return nil }
            return "\(axis): \(text.count > 70 ? String(text.prefix(70)) + "…" : text)"
        }.joined(separator: " | ")
    }
}
