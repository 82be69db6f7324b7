import CoreMetrics
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
        // Stopped with `serve`: the port is free again.
        #expect(!Loopback.isListening(port: port))
    }
}
