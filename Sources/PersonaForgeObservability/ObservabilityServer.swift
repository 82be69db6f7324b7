import Foundation
import Hummingbird
import ServiceLifecycle
public import Logging
public import Prometheus

/// Where the observability endpoint listens.
public struct ObservabilityAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The endpoint could not start; the message says what to change.
public struct ObservabilityServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A small HTTP server (Hummingbird) for one service process:
///
/// - `GET /metrics`: the Prometheus text exposition of ``registry``;
/// - `GET /health`: liveness — 200 "ok" while every loop makes progress, else 503 with the reasons;
/// - `GET /ready`: readiness — 200 "ok" when the loops have started and every
///   dependency check passes, else 503 with one reason per line.
///
/// It runs on SwiftNIO's event loops, never on Swift's shared pool.
public struct ObservabilityServer: Sendable {
    public let address: ObservabilityAddress
    public let registry: PrometheusCollectorRegistry
    public let health: HealthMonitor
    public let logger: Logger

    public init(address: ObservabilityAddress, registry: PrometheusCollectorRegistry, health: HealthMonitor, logger: Logger) {
        self.address = address
        self.registry = registry
        self.health = health
        self.logger = logger
    }

    /// Starts listening, runs `body` while the endpoint serves, then stops it.
    ///
    /// - Throws: ``ObservabilityServerError`` before `body` runs when the address
    ///   cannot be bound (port in use, host not local); whatever `body` throws.
    public func serve<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        let (started, continuation) = AsyncStream.makeStream(of: (any Error)?.self)
        let application = makeApplication { continuation.yield(nil) }
        // Our own ServiceGroup without signal handling: the service's ShutdownSignal owns
        // SIGTERM; the endpoint stops gracefully once `body` has returned.
        let services = ServiceGroup(services: [application], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await services.run()
                } catch {
                    continuation.yield(error)
                }
                continuation.finish()
            }
            var failure: (any Error)?? = nil
            for await event in started {
                failure = .some(event)
                break
            }
            if case .some(.some(let error)) = failure {
                group.cancelAll()
                throw Self.describe(error, address: address)
            }
            if failure == nil {
                group.cancelAll()
                throw ObservabilityServerError(message: "the metrics endpoint on \(address) stopped before it started")
            }
            logger.info("serving metrics and probes", metadata: ["address": "\(address)", "paths": "/metrics /health /ready"])
            let result: Result
            do {
                result = try await body()
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try? await group.waitForAll()
            return result
        }
    }

    private func makeApplication(onRunning: @escaping @Sendable () -> Void) -> some ApplicationProtocol {
        let router = Router()
        let registry = self.registry
        let health = self.health
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("health") { _, _ -> Response in
            Self.answer(health.liveness())
        }
        router.get("ready") { _, _ -> Response in
            Self.answer(await health.readiness())
        }
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port)),
            onServerRunning: { _ in onRunning() },
            logger: serverLogger
        )
    }

    private static func answer(_ verdict: HealthMonitor.Verdict) -> Response {
        Response(
            status: verdict.isHealthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: verdict.body))
        )
    }

    static func describe(_ error: any Error, address: ObservabilityAddress) -> ObservabilityServerError {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return ObservabilityServerError(message: "cannot serve metrics on \(address): the port is already in use by another process — choose a free one with --metrics-port / PERSONAFORGE_METRICS_PORT, or 0 to turn the endpoint off")
        }
        if text.contains("Cannot assign requested address") || text.contains("EADDRNOTAVAIL") {
            return ObservabilityServerError(message: "cannot serve metrics on \(address): \(address.host) is not an address of this machine — use 0.0.0.0 (all interfaces) or 127.0.0.1 with --metrics-host / PERSONAFORGE_METRICS_HOST")
        }
        if text.contains("Permission denied") {
            return ObservabilityServerError(message: "cannot serve metrics on \(address): permission denied (ports below 1024 need privileges) — choose a port above 1024 with --metrics-port")
        }
        return ObservabilityServerError(message: "cannot serve metrics on \(address): \(text)")
    }
}
