import ArgumentParser
import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeWorker

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

    var layout: QueueLayout { QueueLayout(namespace: namespace) }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    /// What a long-running service starts with: its logger, PostgreSQL (migrated),
    /// Redis, and a shutdown signal wired to SIGTERM/SIGINT.
    struct Started {
        var logger: Logger
        var database: PostgresConnection
        var redis: RedisConnection
        var shutdown: ShutdownSignal
    }

    func start(_ role: String, connections: ConnectionOptions) async throws -> Started {
        let logger = logger("personaforge.\(role)")
        let database = try await connections.openDatabase(logger: logger)
        let redis = try await connections.openRedis(logger: logger)
        let shutdown = ShutdownSignal()
        shutdown.installSignalHandlers()
        return Started(logger: logger, database: database, redis: redis, shutdown: shutdown)
    }

    /// A name unique to this process, for leases and consumer names.
    static func processName(_ role: String) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(role)-\(host)-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
    }
}
