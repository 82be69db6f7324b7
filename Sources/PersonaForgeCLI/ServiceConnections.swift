import ArgumentParser
import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeObservability
import PersonaForgeSupport
import PersonaForgeWorker
import Prometheus

/// Opening the services a command needs, with the same actionable errors as `doctor`.
extension ConnectionOptions {
    func openRedis(logger: Logger) async throws -> RedisConnection {
        let configuration: RedisConfiguration
        do {
            configuration = try redisConfiguration()
        } catch {
            throw ValidationError("\(error)")
        }
        let redis = RedisConnection(configuration: configuration, logger: logger)
        do {
            try await redis.connect()
        } catch {
            printToStandardError("error: \(error.message)")
            if let fix = DoctorCommand.redisFix(error, configuration: configuration) { printToStandardError("  → \(fix)") }
            throw ExitCode(1)
        }
        return redis
    }

    /// Connects and applies pending migrations (idempotent, safe concurrently).
    func openDatabase(logger: Logger) async throws -> PostgresConnection {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(to: database.value, logger: logger)
        } catch let error as PostgresError {
            printToStandardError("error: \(error.message)")
            if let fix = DoctorCommand.postgresFix(error) { printToStandardError("  → \(fix)") }
            throw ExitCode(1)
        }
        try await PersonaForgeSchema.migrate(connection, logger: logger)
        return connection
    }

    /// The endpoint workers use when one is given by flag or environment; nil lets each
    /// run's config decide.
    func endpointOverride() throws -> LLMEndpointOverride {
        let base = llmBase
        let model = self.model
        return LLMEndpointOverride(
            baseURL: base.source == "default" ? nil : base.value,
            model: model.source == "default" ? nil : model.value,
            apiKey: try apiKey()
        )
    }
}

/// Options shared by the long-running services.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Redis key namespace (lets several deployments share one Redis).")
    var namespace: String = ProcessInfo.processInfo.environment["PERSONAFORGE_NAMESPACE"] ?? "pf"

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["PERSONAFORGE_LOG_LEVEL"] ?? "info"

    @OptionGroup var observability: ObservabilityOptions

    var layout: QueueLayout { QueueLayout(namespace: namespace) }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    /// What a long-running service runs with: its logger, metrics factory, health
    /// monitor, the shutdown signal (SIGTERM/SIGINT) and its grace period.
    struct Observed: Sendable {
        var logger: Logger
        var metrics: PrometheusMetricsFactory
        var health: HealthMonitor
        var shutdown: ShutdownSignal
        var gracePeriod: Duration
    }

    /// What a long-running service starts with: ``Observed`` plus PostgreSQL (migrated) and Redis.
    struct Started: Sendable {
        var logger: Logger
        var database: PostgresConnection
        var redis: RedisConnection
        var shutdown: ShutdownSignal
        var metrics: PrometheusMetricsFactory
        var health: HealthMonitor
        var gracePeriod: Duration
    }

    /// Runs a service: opens PostgreSQL and Redis, registers their readiness probes,
    /// and runs `body` while /metrics, /health and /ready are served. Maps the outcome
    /// to the documented exit codes (``ServiceExitCode``).
    func runService(_ role: String, connections: ConnectionOptions, _ body: (Started) async throws -> ShutdownOutcome) async throws {
        try await withObservability(role) { observed in
            let database = try await connections.openDatabase(logger: observed.logger)
            observed.health.setStartupStep("connecting to Redis")
            let redis = try await connections.openRedis(logger: observed.logger)
            observed.health.addReadinessCheck(try ReadinessProbes.redis(connections, logger: observed.logger))
            observed.health.addReadinessCheck(ReadinessProbes.postgres(connections, logger: observed.logger))
            observed.health.setStartupStep(nil)
            return try await body(Started(
                logger: observed.logger, database: database, redis: redis, shutdown: observed.shutdown,
                metrics: observed.metrics, health: observed.health, gracePeriod: observed.gracePeriod
            ))
        }
    }

    /// Bootstraps logging and metrics, installs the SIGTERM/SIGINT handlers and a
    /// shutdown watchdog, serves the endpoint (unless turned off) and runs `body`.
    ///
    /// Exit codes: `body` returning `.drained` → 0; `.graceExpired` → 3; the watchdog
    /// exits with 3 when shutdown has not finished within the grace period plus 2 s;
    /// an endpoint that cannot bind → 1 with what to change; bad option values → 64.
    func withObservability(_ role: String, _ body: (Observed) async throws -> ShutdownOutcome) async throws {
        let format = try observability.format()
        let address = try observability.metricsAddress()
        let grace = try observability.grace()
        let stall = try observability.stall()
        let (registry, factory) = ProcessObservability.bootstrap(format: format)
        let logger = logger("personaforge.\(role)")
        let health = HealthMonitor(stallTimeout: stall)
        // Not ready until `body` has connected and says so (setStartupStep(nil)).
        health.setStartupStep("connecting to PostgreSQL")
        // A peer that closed its socket (Redis restarting, a scraper going away) must
        // be an EPIPE error to handle, not a signal that kills the service.
        signal(SIGPIPE, SIG_IGN)
        let shutdown = ShutdownSignal()
        shutdown.installSignalHandlers()
        // The backstop: whatever a loop is stuck in, the process ends within the grace
        // period (plus a margin for releasing work), before Kubernetes sends SIGKILL.
        let watchdog = Task {
            await shutdown.wait()
            guard !Task.isCancelled else { return }
            logger.info("shutdown requested; draining", metadata: ["grace_seconds": "\(grace.components.seconds)"])
            try? await Task.sleep(for: grace + .seconds(2))
            guard !Task.isCancelled else { return }
            logger.error("shutdown did not finish within the grace period; exiting with code \(ServiceExitCode.graceExpired)")
            Foundation.exit(ServiceExitCode.graceExpired)
        }
        defer { watchdog.cancel() }
        let observed = Observed(logger: logger, metrics: factory, health: health, shutdown: shutdown, gracePeriod: grace)
        let outcome: ShutdownOutcome
        if let address {
            let server = ObservabilityServer(address: address, registry: registry, health: health, logger: logger)
            do {
                outcome = try await server.serve { try await body(observed) }
            } catch let error as ObservabilityServerError {
                printToStandardError("error: \(error.message)")
                throw ExitCode(ServiceExitCode.fatal)
            }
        } else {
            outcome = try await body(observed)
        }
        switch outcome {
        case .drained:
            logger.info("stopped", metadata: ["exit_code": "\(ServiceExitCode.drained)"])
        case .graceExpired:
            logger.warning("stopped after the grace period; unfinished work was released for redelivery", metadata: ["exit_code": "\(ServiceExitCode.graceExpired)"])
            throw ExitCode(ServiceExitCode.graceExpired)
        }
    }

    /// A name unique to this process, for leases and consumer names.
    static func processName(_ role: String) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(role)-\(host)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
    }
}

/// The exit codes of `coordinator`, `worker`, `reducer` and `run` (docs/operations.md).
enum ServiceExitCode {
    /// Shut down cleanly: held work finished (or there was none).
    static let drained: Int32 = 0
    /// A fatal runtime error: a service unreachable at start, the metrics port taken, a crash-worthy failure.
    static let fatal: Int32 = 1
    /// The grace period expired: unfinished work was released and will be redelivered.
    static let graceExpired: Int32 = 3
    /// A usage or configuration error (bad flag or environment value); argument-parser's own code.
    static let usage: Int32 = 64
}

/// Readiness checks on connections of their own (never the ones the loops use, so a
/// probe neither waits behind a long COPY nor disturbs it), with short timeouts.
enum ReadinessProbes {
    static func redis(_ connections: ConnectionOptions, logger: Logger) throws -> HealthMonitor.Check {
        var configuration = try connections.redisConfiguration()
        configuration.connectTimeout = .seconds(2)
        configuration.commandTimeout = .seconds(2)
        let probe = RedisConnection(configuration: configuration, logger: logger)
        return HealthMonitor.Check(name: "redis") {
            do {
                try await probe.send("PING")
                return nil
            } catch {
                await probe.close()
                return (error as? RedisError)?.message ?? "\(error)"
            }
        }
    }

    static func postgres(_ connections: ConnectionOptions, logger: Logger) -> HealthMonitor.Check {
        let url = connections.database.value
        let box = LockedBox<PostgresConnection?>(nil)
        return HealthMonitor.Check(name: "postgresql") {
            do {
                let connection: PostgresConnection
                if let open = box.withLock({ $0 }) {
                    connection = open
                } else {
                    connection = try await PostgresConnection.connect(to: url, logger: logger, connectTimeout: 2, applicationName: "personaforge-probe")
                    box.withLock { $0 = connection }
                }
                _ = try await connection.query("SELECT 1")
                return nil
            } catch {
                let broken = box.withLock { open -> PostgresConnection? in
                    defer { open = nil }
                    return open
                }
                await broken?.close()
                return (error as? PostgresError)?.message ?? "\(error)"
            }
        }
    }
}
