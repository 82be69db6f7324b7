import Foundation
import PersonaForgeTestSupport
import Testing

/// The services' /metrics, /health and /ready endpoints and exit codes, on real
/// processes against the local stack (and a private redis-server the test stops).
@Suite(.serialized) struct ServiceObservabilityTests {
    @Test func metricsOfARealRunAgreeWithPostgreSQL() async throws {
        // "flaky": every third request is a 429 with Retry-After: 0, so retries and overload counters move too.
        let harness = try PipelineHarness(llm: "flaky")
        let runID = try await harness.submit(try harness.writeConfig(name: "metrics", personas: 12, shardSize: 4))
        let (coordinatorPort, reducerPort, workerPort) = (try Loopback.freePort(), try Loopback.freePort(), try Loopback.freePort())
        try harness.start(["coordinator", "--metrics-port", String(coordinatorPort)])
        try harness.start(["reducer", "--metrics-port", String(reducerPort)])
        // Before any worker: all three shards queued, none delivered, so the lag is the whole queue.
        let queued = try await harness.metrics(port: coordinatorPort) { $0["personaforge_queue_depth{stream=\"shards\"}"] == 3 }
        #expect(queued["personaforge_queue_lag{stream=\"shards\",group=\"workers\"}"] == 3, "\(queued)")
        #expect(queued["personaforge_queue_pending{stream=\"shards\",group=\"workers\"}"] == 0)
        let waiting = try await harness.run(["status", runID])
        #expect(waiting.output.contains("shards: 3 waiting for a worker (lag), 0 in flight"), "\(waiting.output)")
        try harness.start(["worker", "--concurrency", "2"], environment: ["PERSONAFORGE_METRICS_PORT": String(workerPort)])
        let counts = try await harness.waitFor(runID) { $0.state == "completed" }
        #expect(counts.records == 12)

        let worker = try await harness.metrics(port: workerPort) { $0["personaforge_worker_shards_total{outcome=\"done\"}"] == 3 }
        let requests = worker.filter { $0.key.hasPrefix("personaforge_llm_requests_total{") }.values.reduce(0, +)
        #expect(worker["personaforge_llm_request_duration_seconds_count"] == requests, "one latency observation per HTTP request")
        #expect(worker["personaforge_llm_requests_total{result=\"ok\"}"] == 12)
        let rateLimited = worker["personaforge_llm_requests_total{result=\"llm_rate_limited\"}"] ?? 0
        #expect(rateLimited >= 1, "\(worker)")
        #expect(worker["personaforge_llm_overload_responses_total{status=\"429\"}"] == rateLimited)
        #expect(worker["personaforge_llm_retries_total"] == rateLimited)
        #expect(worker["personaforge_worker_shards_total{outcome=\"done\"}"] == 3)
        #expect(worker["personaforge_worker_shards_in_flight"] == 0)
        #expect(worker.filter { $0.key.hasPrefix("personaforge_worker_records_total{") }.values.reduce(0, +) == 12)
        #expect((worker["personaforge_worker_concurrency_limit"] ?? 0) >= 1)

        let database = try await harness.database()
        let tokens = try await database.query(
            "SELECT sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion FROM records WHERE run_id = $1::uuid", [runID]
        )[0]
        await database.close()
        #expect(worker["personaforge_llm_tokens_total{kind=\"prompt\"}"] == Double(tokens["prompt"].int ?? -1))
        #expect(worker["personaforge_llm_tokens_total{kind=\"completion\"}"] == Double(tokens["completion"].int ?? -1))

        let reducer = try await harness.metrics(port: reducerPort) { $0["personaforge_reducer_batches_committed_total"] == 3 }
        #expect(reducer["personaforge_records_total{outcome=\"kept\"}"] == Double(counts.kept))
        #expect(reducer["personaforge_records_total{outcome=\"filtered\"}"] == Double(counts.filtered))
        #expect(reducer["personaforge_records_total{outcome=\"failed\"}"] == Double(counts.failed))
        #expect(reducer["personaforge_reducer_batches_committed_total"] == 3)
        #expect((reducer["personaforge_reducer_commit_duration_seconds_count"] ?? 0) >= 1)

        let coordinator = try await harness.metrics(port: coordinatorPort) { $0["personaforge_coordinator_runs_completed_total"] == 1 }
        #expect(coordinator["personaforge_coordinator_shards_queued_total"] == 3)
        #expect(coordinator["personaforge_coordinator_runs_completed_total"] == 1)
        #expect(coordinator["personaforge_coordinator_leader"] == 1)
        #expect(coordinator["personaforge_queue_depth{stream=\"shards\"}"] == 0)
        #expect(coordinator["personaforge_queue_pending{stream=\"shards\",group=\"workers\"}"] == 0)
        #expect(coordinator["personaforge_queue_lag{stream=\"shards\",group=\"workers\"}"] == 0)
        #expect(coordinator["personaforge_queue_lag{stream=\"results\",group=\"reducers\"}"] == 0)

        for port in [coordinatorPort, reducerPort, workerPort] {
            #expect(try await harness.get(port: port, "health").status == 200)
            #expect(try await harness.get(port: port, "ready").body == "ok\n")
        }
    }

    @Test func theAllInOneRunServesTheMetricsOfEveryRoleAndIsReadyWhileItRuns() async throws {
        let harness = try PipelineHarness(llm: "slow")
        let config = try harness.writeConfig(name: "run-metrics", personas: 12, shardSize: 4)
        let port = try Loopback.freePort()
        let run = try harness.start(["run", config, "--workers", "1", "--metrics-port", String(port), "--progress-interval", "1"])
        try await harness.waitFor(port: port, "ready", status: 200)
        let samples = try await harness.metrics(port: port) { $0["personaforge_reducer_batches_committed_total"] == 3 }
        #expect(samples["personaforge_coordinator_leader"] == 1)
        #expect(samples["personaforge_coordinator_shards_queued_total"] == 3)
        #expect(samples["personaforge_worker_shards_total{outcome=\"done\"}"] == 3)
        #expect(samples["personaforge_llm_requests_total{result=\"ok\"}"] == 12)
        #expect(samples["personaforge_records_total{outcome=\"kept\"}"] == 12)
        #expect(samples["personaforge_reducer_batches_committed_total"] == 3)
        // The run ends by itself once every shard is stored: exit 0.
        #expect(await run.waitForExit(timeout: .seconds(60)) == 0, "\(harness.log(of: 0).suffix(2000))")
    }

    /// The stack's PostgreSQL behind a proxy a test can cut (others keep using it
    /// directly), and the environment that sends a service through it.
    static func proxiedDatabase() throws -> (TCPProxy, [String: String]) {
        let databaseURL = ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
            ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"
        let proxy = try TCPProxy(targetPort: try #require(URLComponents(string: databaseURL)?.port))
        var proxied = try #require(URLComponents(string: databaseURL))
        proxied.port = proxy.port
        return (proxy, ["PERSONAFORGE_DATABASE_URL": proxied.string!])
    }

    /// The 503 answer of `/ready` once it comes, or nil (recorded with the service log) when it does not.
    static func readinessFailure(port: Int, _ harness: PipelineHarness) async -> String? {
        do {
            return try await harness.waitFor(port: port, "ready", status: 503)
        } catch {
            Issue.record("\(error)\nservice log:\n\(harness.log(of: 0).suffix(3000))")
            return nil
        }
    }

    @Test func readinessFollowsRedisAndLivenessDoesNot() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let redis = try RedisServerProcess()
        let port = try Loopback.freePort()
        try harness.start(["reducer", "--metrics-port", String(port)], environment: ["PERSONAFORGE_REDIS_URL": redis.url])
        try await harness.waitFor(port: port, "ready", status: 200)

        redis.stop()
        guard let reason = await Self.readinessFailure(port: port, harness) else { return }
        #expect(reason.contains("redis:"), "\(reason)")
        #expect(!reason.contains("postgresql:"), "\(reason)")
        #expect(try await harness.get(port: port, "health").status == 200, "a Redis outage is not a reason to restart the pod")

        try redis.start()
        try await harness.waitFor(port: port, "ready", status: 200)
    }

    @Test func readinessFollowsPostgreSQL() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let (proxy, through) = try Self.proxiedDatabase()
        let port = try Loopback.freePort()
        try harness.start(["reducer", "--metrics-port", String(port)], environment: through)
        try await harness.waitFor(port: port, "ready", status: 200)

        proxy.cut()
        guard let reason = await Self.readinessFailure(port: port, harness) else { return }
        #expect(reason.contains("postgresql:"), "\(reason)")
        #expect(!reason.contains("redis:"), "\(reason)")
        #expect(!reason.contains("personaforge:personaforge@"), "no password in a probe answer: \(reason)")
        #expect(try await harness.get(port: port, "health").status == 200)

        try proxy.restore()
        try await harness.waitFor(port: port, "ready", status: 200)
    }

    @Test func aServiceWaitingForPostgreSQLAtStartIsAliveButNotReadyThenExitsOne() async throws {
        let harness = try PipelineHarness(llm: "ok")
        // Accepts TCP but never answers: libpq waits for its connect timeout (5 s).
        let hanging = try SilentListener()
        let port = try Loopback.freePort()
        let reducer = try harness.start(["reducer", "--metrics-port", String(port)], environment: [
            "PERSONAFORGE_DATABASE_URL": "postgresql://personaforge:secret@127.0.0.1:\(hanging.port)/personaforge",
        ])
        let reason = try await harness.waitFor(port: port, "ready", status: 503, timeout: .seconds(20))
        #expect(reason == "starting: connecting to PostgreSQL\n", "the endpoint is up before the service connected: \(reason)")
        #expect(try await harness.get(port: port, "health").status == 200)
        let status = await reducer.waitForExit(timeout: .seconds(30))
        #expect(status == 1, "unreachable at start: exit code 1\n\(harness.log(of: 0))")
        #expect(harness.log(of: 0).contains("could not connect to PostgreSQL at"))
        #expect(!harness.log(of: 0).contains("secret"), "no password in the log")
    }

    @Test func aTakenMetricsPortIsAClearErrorWithExitCodeOne() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let port = try Loopback.freePort()
        try harness.start(["coordinator", "--metrics-port", String(port)])
        try await harness.waitFor(port: port, "health", status: 200)
        let result = try await harness.run(["reducer", "--metrics-port", String(port)], timeout: .seconds(30))
        #expect(result.status == 1)
        #expect(result.output.contains("cannot serve metrics on 127.0.0.1:\(port): the port is already in use"), "\(result.output)")
        #expect(result.output.contains("--metrics-port"))

        let invalid = try await harness.run(["worker", "--metrics-port", "99999"], timeout: .seconds(30))
        #expect(invalid.status == 64, "a configuration error has its own exit code")
        #expect(invalid.output.contains("--metrics-port must be a TCP port"), "\(invalid.output)")
    }

    @Test func aWorkerPastItsGracePeriodReleasesItsShardAndExitsThree() async throws {
        let harness = try PipelineHarness(llm: "slow")
        // One shard of 12 × 300 ms at concurrency 1: far longer than the 1 s grace period.
        let runID = try await harness.submit(try harness.writeConfig(name: "grace", personas: 12, shardSize: 12))
        let coordinator = try harness.start(["coordinator", "--shard-lease", "30"])
        let reducer = try harness.start(["reducer"])
        let port = try Loopback.freePort()
        let worker = try harness.start(["worker", "--concurrency", "1", "--grace-period", "1", "--shard-lease", "30", "--metrics-port", String(port)])
        try await harness.waitFor(port: port, "ready", status: 200)
        let holding = try await harness.metrics(port: port) { $0["personaforge_worker_shards_in_flight"] == 1 }
        #expect(holding["personaforge_worker_shards_in_flight"] == 1)
        let signalled = ContinuousClock.now
        worker.send(signal: SIGTERM)
        let status = await worker.waitForExit(timeout: .seconds(15))
        #expect(status == 3, "grace period expired: exit code 3\n\(harness.log(of: 2).suffix(2000))")
        // ~1 s (the grace period) in practice, 3 s at most by the watchdog; the bound
        // leaves room for a loaded machine.
        #expect(ContinuousClock.now - signalled < .seconds(10))
        #expect(harness.log(of: 2).contains("grace period over: putting the unfinished shard back"))
        // Put back as a new entry nobody holds: no delivery counts against it.
        let redis = try harness.redis()
        #expect(try await redis.pendingSummary("pf:{\(harness.namespace)}:shards", group: "workers").count == 0)
        #expect(try await redis.send("XLEN", "pf:{\(harness.namespace)}:shards").integer == 1)

        // Released, not lost: a second worker takes it over at once (not after the 30 s lease).
        try harness.start(["worker", "--concurrency", "4", "--shard-lease", "30"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(25)) { $0.state == "completed" }
        #expect(counts.records == 12)

        // The coordinator and the reducer hold nothing at rest: SIGTERM → exit 0.
        coordinator.send(signal: SIGTERM)
        reducer.send(signal: SIGTERM)
        #expect(await coordinator.waitForExit(timeout: .seconds(15)) == 0)
        #expect(await reducer.waitForExit(timeout: .seconds(15)) == 0)
    }
    @Test func preemptedAndLongShardsAreNotDeadLettered() async throws {
        let harness = try PipelineHarness(llm: "slow")
        // One shard of 12 × 300 ms at concurrency 1 (3.6 s), longer than the 3 s lease;
        // --max-deliveries 1 dead-letters a shard at its first delivery once it is abandoned.
        let runID = try await harness.submit(try harness.writeConfig(name: "preempted", personas: 12, shardSize: 12))
        try harness.start(["coordinator", "--shard-lease", "3", "--max-deliveries", "1"])
        try harness.start(["reducer"])
        let port = try Loopback.freePort()
        let first = try harness.start(["worker", "--concurrency", "1", "--grace-period", "1", "--shard-lease", "3", "--metrics-port", String(port)])
        _ = try await harness.metrics(port: port) { $0["personaforge_worker_shards_in_flight"] == 1 }
        // Preempted (scale-down): the shard goes back as a new entry, not as a failed delivery.
        first.send(signal: SIGTERM)
        #expect(await first.waitForExit(timeout: .seconds(15)) == 3)
        // The next worker holds it past the lease, renewing its claim: worked on, so never dead.
        try harness.start(["worker", "--concurrency", "1", "--shard-lease", "3"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(40)) { $0.state == "completed" }
        #expect(counts.deadShards == 0, "\(harness.log(of: 0).suffix(2000))")
        #expect(counts.records == 12)
        #expect(!harness.log(of: 0).contains("shard dead-lettered"))
    }
}
