import Foundation
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeTestSupport
import Testing

/// Redis and PostgreSQL going away in the middle of a run, on real processes: each
/// test ends with the run complete, every record stored once, every service running.
@Suite(.serialized) struct OutageTests {
    @Test func aPostgreSQLOutageMidRunLosesAndDuplicatesNothing() async throws {
        let harness = try PipelineHarness(llm: "slow")
        let runID = try await harness.submit(try harness.writeConfig(name: "pg-outage", personas: 48, shardSize: 4))
        // Every service reaches the stack's PostgreSQL through a proxy this test cuts.
        let (proxy, through) = try ServiceObservabilityTests.proxiedDatabase()
        let services = try await Self.startFleet(harness, runID, environment: through)
        proxy.cut()
        // Long enough for every loop to hit the outage (each sample takes 300 ms).
        try await Task.sleep(for: .seconds(4))
        let during = try await harness.counts(runID)
        #expect(during.records < 48, "the outage came too late to test anything")
        try proxy.restore()

        // Well within the reducer's 60 s claim timeout: a reducer takes back its own
        // batches of a failed step at once, and the loops back off to at most 5 s.
        try await Self.expectCompletedOnce(harness, runID, samples: 48, services: services, within: .seconds(40))
        #expect(harness.log(of: 1).contains("reconnected to PostgreSQL"), "\(harness.log(of: 1).suffix(2000))")
        #expect(harness.log(of: 1).contains("retrying result batches of a failed step"))
    }

    @Test func aRedisRestartMidRunLosesAndDuplicatesNothing() async throws {
        let harness = try PipelineHarness(llm: "slow")
        // A private Redis with its append-only file on, as deployed, that this test restarts.
        let redis = try RedisServerProcess(persistent: true)
        let through = ["PERSONAFORGE_REDIS_URL": redis.url]
        let runID = try await harness.submit(try harness.writeConfig(name: "redis-restart", personas: 48, shardSize: 4), environment: through)
        let services = try await Self.startFleet(harness, runID, environment: through)
        redis.stop()
        try await Task.sleep(for: .seconds(3))
        let during = try await harness.counts(runID)
        #expect(during.records < 48, "the outage came too late to test anything")
        try redis.start()

        try await Self.expectCompletedOnce(harness, runID, samples: 48, services: services, within: .seconds(60))
    }

    @Test func aRedisThatComesBackEmptyMidRunIsRefilledAndTheRunCompletes() async throws {
        let harness = try PipelineHarness(llm: "slow")
        // A private Redis without persistence: restarting it loses every stream, group and key.
        let redis = try RedisServerProcess()
        let through = ["PERSONAFORGE_REDIS_URL": redis.url]
        let runID = try await harness.submit(try harness.writeConfig(name: "redis-lost", personas: 32, shardSize: 4), environment: through)
        let coordinatorPort = try Loopback.freePort()
        let services = try await Self.startFleet(harness, runID, environment: through, coordinator: ["--high-water-mark", "3", "--metrics-port", String(coordinatorPort)])
        redis.stop()
        try await Task.sleep(for: .seconds(2))
        try redis.start()
        let during = try await harness.counts(runID)
        #expect(during.records < 32, "the loss came too late to test anything")

        let counts = try await Self.expectCompletedOnce(harness, runID, samples: 32, services: services, within: .seconds(60))
        #expect(counts.shards == 8)
        #expect(harness.log(of: 0).contains("Redis lost its data"), "\(harness.log(of: 0).suffix(3000))")
        let metrics = try await harness.metrics(port: coordinatorPort) { ($0["personaforge_coordinator_shards_requeued_total"] ?? 0) >= 1 }
        #expect((metrics["personaforge_coordinator_shards_requeued_total"] ?? 0) >= 1, "\(metrics)")
    }

    @Test func aFullRedisAndStoppedReducersLoseNoResultBatchAndTheRunCompletesAfter() async throws {
        let harness = try PipelineHarness(llm: "slow")
        // A private Redis this test fills up (maxmemory) and whose results nobody reduces at first.
        let redisServer = try RedisServerProcess()
        let through = ["PERSONAFORGE_REDIS_URL": redisServer.url]
        let redis = RedisConnection(configuration: try RedisConfiguration(url: redisServer.url))
        let results = "pf:{\(harness.namespace)}:results", shards = "pf:{\(harness.namespace)}:shards"
        // 6 shards of 4 samples × 300 ms at concurrency 1: about 1.2 s a shard.
        let runID = try await harness.submit(try harness.writeConfig(name: "results-full", personas: 24, shardSize: 4), environment: through)
        let coordinator = try harness.start(["coordinator", "--high-water-mark", "2", "--results-high-water-mark", "2"], environment: through)
        let worker = try harness.start(["worker", "--concurrency", "1", "--results-high-water-mark", "2"], environment: through)

        // 1. Redis refuses every write (OOM) while the worker holds a shard: the shard
        //    stays held and unacknowledged, and its batch is retried, not dropped.
        try await Self.waitUntil("the worker holds a shard") {
            (try? await redis.pendingSummary(shards, group: "workers").count) ?? 0 >= 1
        }
        try await redis.send("CONFIG", "SET", "maxmemory", "1")
        try await Self.waitUntil("the worker's push is refused", timeout: .seconds(20)) {
            harness.log(of: 1).contains("Redis refused the result batch; holding the shard and retrying")
        }
        try await Task.sleep(for: .seconds(2))
        #expect(Int(try await redis.send("XLEN", results).integer ?? -1) == 0)
        #expect(try await redis.pendingSummary(shards, group: "workers").count >= 1, "the refused shard must not be acknowledged")

        // 2. Room again, but no reducer: results stop at the high-water mark; the
        //    coordinator feeds nothing more and the worker takes nothing more.
        try await redis.send("CONFIG", "SET", "maxmemory", "0")
        try await Self.waitUntil("the worker waits for reducers", timeout: .seconds(30)) {
            harness.log(of: 1).contains("results stream is full: waiting for reducers")
        }
        let full = Int(try await redis.send("XLEN", results).integer ?? -1)
        try await Task.sleep(for: .seconds(3))
        let later = Int(try await redis.send("XLEN", results).integer ?? -1)
        // The mark, plus at most the one shard the worker held when it was reached.
        #expect((2...3).contains(full), "results stream length \(full)")
        #expect(later == full, "the results stream kept growing without reducers: \(full) → \(later)")
        #expect(harness.log(of: 0).contains("results stream is full: feeding no shards"), "\(harness.log(of: 0).suffix(2000))")
        #expect(try await harness.counts(runID).records == 0)

        // 3. A reducer catches up: the run completes with every record stored once.
        let reducer = try harness.start(["reducer"], environment: through)
        try await Self.expectCompletedOnce(harness, runID, samples: 24, services: [coordinator, worker, reducer], within: .seconds(60))
        #expect(harness.log(of: 1).contains("results stream has room again"))
    }

    /// Polls `condition` every 100 ms; fails after `timeout`.
    static func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("timed out after \(timeout) waiting until \(what)")
    }

    /// A coordinator (high-water mark 2 unless `coordinator` says otherwise), a reducer
    /// and a worker with short leases, started with `environment`; returns once the
    /// first records of `runID` are stored. The worker starts only once the reducer is
    /// ready, so results are stored shard by shard as they come: a reducer that started
    /// late on a loaded machine would otherwise find the whole run waiting and store it
    /// in one write, before the outage a test means to put in the middle of it.
    static func startFleet(
        _ harness: PipelineHarness, _ runID: String, environment: [String: String], coordinator: [String] = ["--high-water-mark", "2"]
    ) async throws -> [ChildProcess] {
        let reducerPort = try Loopback.freePort()
        let coordinator = try harness.start(["coordinator", "--shard-lease", "5"] + coordinator, environment: environment)
        let reducer = try harness.start(["reducer", "--metrics-port", String(reducerPort)], environment: environment)
        _ = try await harness.waitFor(port: reducerPort, "ready", status: 200)
        let worker = try harness.start(["worker", "--concurrency", "2", "--shard-lease", "5"], environment: environment)
        try await harness.waitFor(runID, timeout: .seconds(60)) { $0.records >= 4 }
        return [coordinator, reducer, worker]
    }

    /// Waits for `runID` to complete and expects each of its `samples` records stored
    /// once and kept, no dead shard, and every service still running.
    @discardableResult
    static func expectCompletedOnce(
        _ harness: PipelineHarness, _ runID: String, samples: Int, services: [ChildProcess], within timeout: Duration
    ) async throws -> PipelineHarness.Counts {
        let counts = try await harness.waitFor(runID, timeout: timeout) { $0.state == "completed" }
        #expect(counts.records == samples)
        #expect(counts.distinctKeys == samples)
        #expect(counts.counted == samples)
        #expect(counts.kept == samples)
        #expect(counts.deadShards == 0)
        for (index, service) in services.enumerated() {
            #expect(service.isRunning, "service \(index) kept running\n\(harness.log(of: index).suffix(2000))")
        }
        return counts
    }

    /// What the coordinator needs to put back what a Redis that lost its data took with it.
    @Test func unaccountedShardsAreTheGapsInRunShardsBelowTheCursor() async throws {
        try await LiveDiversityTests.withRun { runID, connect in
            let connection = try await connect()
            let runs = RunRepository(connection: connection)
            #expect(try await runs.unaccountedShards(runID, below: 0) == [])
            #expect(try await runs.unaccountedShards(runID, below: 3) == [0, 1, 2], "nothing finished yet")
            for shard in [2, 3, 6, 9] {
                try await runs.recordShardOutcome(runID: runID, shard: shard, status: shard == 6 ? "dead" : "done", reason: nil, attempt: nil)
            }
            // Head gap (0, 1), inner gaps (4, 5 and 7, 8), tail gap (10, 11); 12 is not queued yet.
            #expect(try await runs.unaccountedShards(runID, below: 12) == [0, 1, 4, 5, 7, 8, 10, 11])
            #expect(try await runs.unaccountedShards(runID, below: 7) == [0, 1, 4, 5], "outcomes at or above the cursor do not count")
            #expect(try await runs.unaccountedShards(runID, below: 12, limit: 3) == [0, 1, 4])
            for shard in [0, 1, 4, 5, 7, 8, 10, 11] {
                try await runs.recordShardOutcome(runID: runID, shard: shard, status: "done", reason: nil, attempt: nil)
            }
            #expect(try await runs.unaccountedShards(runID, below: 12) == [])

            #expect(try await runs.redisIncarnation(namespace: "ns-a") == nil)
            try await runs.setRedisIncarnation("one", namespace: "ns-a")
            try await runs.setRedisIncarnation("two", namespace: "ns-a")
            try await runs.setRedisIncarnation("other", namespace: "ns-b")
            #expect(try await runs.redisIncarnation(namespace: "ns-a") == "two")
            await connection.close()
        }
    }
}
