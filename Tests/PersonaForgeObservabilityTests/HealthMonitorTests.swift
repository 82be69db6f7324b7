import CoreMetrics
import Foundation
import PersonaForgeHTTP
import PersonaForgeObservability
import PersonaForgeTestSupport
import Prometheus
import Logging
import Testing

@Suite struct HealthMonitorTests {
    @Test func aLoopSilentForLongerThanTheStallTimeoutFailsLiveness() {
        let monitor = HealthMonitor(stallTimeout: .seconds(60))
        let worker = monitor.register("worker")
        worker.beat()
        let beat = worker.lastBeat!
        #expect(monitor.liveness(now: beat + .seconds(59)).isHealthy)
        let stalled = monitor.liveness(now: beat + .seconds(61))
        #expect(!stalled.isHealthy)
        #expect(stalled.body.hasPrefix("worker: no progress for 61 s"))
    }

    @Test func aServiceStillStartingIsNotReadyEvenWithNothingRegistered() async {
        let monitor = HealthMonitor()
        #expect(await monitor.readiness().isHealthy, "a monitor nobody marked as starting has nothing to wait for")
        monitor.setStartupStep("connecting to PostgreSQL")
        #expect(await monitor.readiness().problems == ["starting: connecting to PostgreSQL"])
        #expect(monitor.liveness().isHealthy, "starting is alive")
        monitor.setStartupStep(nil)
        #expect(await monitor.readiness().isHealthy)
    }

    @Test func readinessWaitsForTheFirstBeatAndReportsEveryFailingCheck() async {
        let monitor = HealthMonitor()
        let reducer = monitor.register("reducer")
        monitor.addReadinessCheck(.init(name: "redis") { "connection refused" })
        monitor.addReadinessCheck(.init(name: "postgresql") { nil })
        #expect(await monitor.readiness().problems == ["reducer: starting", "redis: connection refused"])
        reducer.beat()
        #expect(await monitor.readiness().problems == ["redis: connection refused"])
    }

    @Test func theEndpointServesMetricsAndProbesAndRefusesATakenPort() async throws {
        let registry = PrometheusCollectorRegistry()
        Counter(label: "personaforge_test_total", dimensions: [("outcome", "kept")], factory: PrometheusMetricsFactory(registry: registry))
            .increment(by: 5)
        let monitor = HealthMonitor()
        monitor.register("loop").beat()
        let port = try Loopback.freePort()
        let address = ObservabilityAddress(host: "127.0.0.1", port: port)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let server = ObservabilityServer(address: address, registry: registry, health: monitor, logger: logger)
        let http = HTTPClient()
        defer { http.shutdown() }
        try await server.serve {
            let metrics = try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics"))
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("personaforge_test_total{outcome=\"kept\"} 5"))
            #expect(try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/ready")).status == 200)
            #expect(try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/nothing")).status == 404)

            let second = ObservabilityServer(address: address, registry: registry, health: monitor, logger: logger)
            let error = await #expect(throws: ObservabilityServerError.self) { try await second.serve {} }
            #expect(error?.message.contains("the port is already in use") == true)
        }
    }
}

@Suite struct HealthMonitorSingleFlightTests {
    /// A check that blocks until released, counting how often it was started.
    final class SlowCheck: @unchecked Sendable {
        // @unchecked Sendable: fields are only touched under `lock`.
        let lock = NSLock()
        var started = 0
        var release: CheckedContinuation<Void, Never>?

        func run() async -> String? {
            lock.withLock { started += 1 }
            await withCheckedContinuation { continuation in lock.withLock { release = continuation } }
            return "refused"
        }
    }

    @Test func aHungCheckIsRunOnceAndReportedAsNoAnswerAfterTheTimeout() async throws {
        let monitor = HealthMonitor(checkTimeout: .seconds(3))
        let slow = SlowCheck()
        monitor.addReadinessCheck(.init(name: "postgresql") { await slow.run() })
        let first = Task { await monitor.readiness() }
        while slow.lock.withLock({ slow.release == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        // While the first probe waits, later probes answer at once instead of queueing.
        #expect(await monitor.readiness().problems == ["postgresql: checking"])
        #expect(await monitor.readiness(now: .now + .seconds(4)).problems.first?.hasPrefix("postgresql: no answer for 4 s") == true)
        #expect(slow.lock.withLock { slow.started } == 1)
        slow.lock.withLock { slow.release }?.resume()
        #expect(await first.value.problems == ["postgresql: refused"])
    }
}
