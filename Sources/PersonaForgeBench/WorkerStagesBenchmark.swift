import Foundation
import CoreMetrics
import Logging
import PersonaForgeCore
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeSupport
import PersonaForgeTestSupport
import PersonaForgeWorker
import Prometheus

/// What a worker spends per record outside the LLM, split by stage (issue 14).
///
/// The records are those of the end-to-end benchmark's run (personas × 200 topics,
/// one step, dedup on) against `personaforge-stub`, with a private redis-server. Each
/// round runs, in this bench's process, and measures its CPU (`getrusage`, every
/// thread):
///
/// 1. **the whole path**: for each shard in turn, ``LocalShardPipeline`` (the
///    worker's own `ShardProcessor`: conditions, prompts, LLM calls through the
///    concurrency gate, curation, MinHash; its metrics into a Prometheus registry,
///    as the worker executable records them) and then the Redis commands a worker
///    sends per shard (take, run state, delivery count, `XADD` of the encoded
///    batch, `XACK`/`XDEL`/`HDEL`);
/// 2. **each stage alone**, over the same records: the conditions, the prompt
///    rendering, the request encoding, the HTTP exchange (the encoded requests
///    posted `concurrency` at once), the response parsing, the curation (trim,
///    filters), MinHash, the record assembly, the batch encoding and the Redis
///    commands.
///
/// The stages' sum against the whole path shows what the orchestration (tasks,
/// the gate, result collection) costs. Not in the worker's figure in the end-to-end
/// run: reading the shard stream's reply and the metrics; both are per shard.
struct WorkerStagesBenchmark {
    var records: Int
    var concurrency: Int
    var shardSize: Int
    var rounds: Int
    var words: Int
    /// Only the whole path, each round (to profile it with `perf`).
    var wholeOnly = false
    /// The worker's metrics into a Prometheus registry, as the executable records them
    /// (false: a no-op factory, to see what the metrics cost).
    var prometheus = true
    var binaries: URL

    struct Row {
        var stage: String
        var cpuSeconds: Double
        var seconds: Double
    }

    struct Round {
        var whole: Row
        var stages: [Row]
        var stubCPUSeconds: Double
    }

    func run() async throws -> [Round] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-stages-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let loaded = try EndToEndBenchmark.loadedRun(in: directory, name: "stages", dedup: true, records: records, shardSize: shardSize)

        let port = try Loopback.freePort()
        let stub = try ChildProcess(
            [binaries.appendingPathComponent("personaforge-stub").path, "--port", String(port), "--words", String(words)],
            logPath: directory.appendingPathComponent("stub.log").path)
        defer { stub.terminate() }
        try Loopback.waitUntilListening(port: port)
        let redisServer = try RedisServerProcess()
        defer { redisServer.stop() }
        let redis = RedisConnection(configuration: try RedisConfiguration(url: redisServer.url))

        var logger = Logger(label: "personaforge-bench")
        logger.logLevel = .warning
        let http = HTTPClient(configuration: Worker.httpConfiguration)
        defer { http.shutdown() }
        let endpoint = LLMEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "stub")
        let client = LLMClient(endpoint: endpoint, http: http, timeout: .seconds(30))
        let factory: any MetricsFactory = prometheus ? PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()) : NOOPMetricsHandler.instance
        let pipeline = try LocalShardPipeline(
            runID: UUID().uuidString.lowercased(), loaded: loaded, client: client, concurrency: concurrency, logger: logger, metrics: factory)
        let runID = UUID().uuidString.lowercased()
        let shards = stride(from: 0, to: records, by: shardSize).enumerated().map { index, start in
            ShardDescriptor(runID: runID, shard: index, start: start, count: min(shardSize, records - start))
        }
        let layout = QueueLayout(namespace: "stages")
        try await redis.createGroup(layout.shards, group: layout.workersGroup)
        func stubCPU() -> Double { stub.pid.flatMap { ProcessCPU.seconds(of: $0) } ?? 0 }

        // The Redis commands a worker sends for one shard (Worker.nextShard, handle, push).
        func redisTurn(_ batch: [UInt8], descriptor: [UInt8]) async throws {
            _ = try await redis.send(RedisStreamCommands.xadd(layout.shards, fields: [(QueueCodec.field, descriptor)]))
            _ = try await redis.send("XAUTOCLAIM", layout.shards, layout.workersGroup, "bench", 60_000, "0-0", "COUNT", 1)
            let entry = try await redis.readGroup(layout.shards, group: layout.workersGroup, consumer: "bench", count: 1, block: .milliseconds(100)).first
            guard let entry else { throw TestSupportError("the shard just added was not read back") }
            _ = try await redis.send("HGET", layout.runStates, runID)
            _ = try await redis.pendingEntries(layout.shards, group: layout.workersGroup, start: entry.id, end: entry.id, count: 1)
            _ = try await redis.send(RedisStreamCommands.xadd(layout.results, fields: [(QueueCodec.field, batch)]))
            _ = try await redis.pipeline([
                RedisCommand("XACK", layout.shards, layout.workersGroup, entry.id),
                RedisCommand("XDEL", layout.shards, entry.id),
                RedisCommand("HDEL", "\(layout.deadLetters):errors", entry.id),
            ])
        }
        let descriptors = try shards.map { try QueueCodec.encode($0) }

        // Warm-up, not reported.
        for shard in shards.prefix(max(1, shards.count / 10)) { _ = try await pipeline.process(shard) }

        var results: [Round] = []
        for _ in 0..<rounds {
            _ = try await redis.send("DEL", layout.results)
            let stubBefore = stubCPU()
            var batches: [ResultBatch] = []
            let whole = try await measure("whole path") {
                for (index, shard) in shards.enumerated() {
                    let records = try await pipeline.process(shard)
                    let batch = ResultBatch(shard: shard, worker: "bench", attempt: 1, records: records)
                    try await redisTurn(QueueCodec.encodeBatch(batch), descriptor: descriptors[index])
                    batches.append(batch)
                }
            }
            let stubSeconds = stubCPU() - stubBefore
            _ = try await redis.send("DEL", layout.results)
            let kept = batches.flatMap(\.records).filter { $0.status == .kept }.count
            guard kept > records / 2 else { throw TestSupportError("only \(kept) of \(records) records kept: the stub or the filters changed") }
            if wholeOnly {
                results.append(Round(whole: whole, stages: [], stubCPUSeconds: stubSeconds))
                continue
            }
            results.append(Round(whole: whole, stages: try await stages(pipeline: pipeline, loaded: loaded, shards: shards, batches: batches,
                                                                        http: http, endpoint: endpoint, redisTurn: redisTurn, descriptors: descriptors),
                                 stubCPUSeconds: stubSeconds))
        }
        return results
    }

    /// Every stage alone over the same records, in the order a record goes through them.
    private func stages(
        pipeline: LocalShardPipeline, loaded: LoadedRun, shards: [ShardDescriptor], batches: [ResultBatch],
        http: HTTPClient, endpoint: LLMEndpoint, redisTurn: ([UInt8], [UInt8]) async throws -> Void, descriptors: [[UInt8]]
    ) async throws -> [Row] {
        var rows: [Row] = []
        let space = pipeline.space, plan = pipeline.plan, renderer = loaded.renderer, config = loaded.config
        var addresses: [SampleAddress] = []
        var conditions: [[String: AxisValue]] = []
        var named: [[NamedAxisValue]] = []
        rows.append(try await measure("conditions") {
            for shard in shards {
                let positions = Array(shard.samplePositions)
                let shardAddresses = positions.map(plan.address(ofSample:))
                let shardConditions = try await space.conditions(at: shardAddresses.map(\.conditionPosition))
                for (address, condition) in zip(shardAddresses, shardConditions) {
                    let digits = space.indices(ofCondition: address.conditionPosition)
                    named.append(space.axes.enumerated().map { offset, axis in
                        NamedAxisValue(axis: axis.name, index: digits[offset], value: condition[axis.name] ?? AxisValue(""))
                    })
                }
                addresses += shardAddresses
                conditions += shardConditions
            }
        })
        var prompts: [RenderedPrompt] = []
        rows.append(try await measure("prompt rendering") {
            prompts = zip(conditions, addresses).map { renderer.prompt(forStep: 0, condition: $0, address: $1) }
        })
        var bodies: [[UInt8]] = []
        rows.append(try await measure("request encoding") {
            bodies = try prompts.enumerated().map { offset, prompt in
                var messages: [ChatMessage] = []
                if let system = prompt.system, !system.isEmpty { messages.append(.system(system)) }
                messages.append(.user(prompt.user))
                return try ChatCompletionRequest(
                    model: endpoint.model, messages: messages, temperature: config.model.temperature, topP: config.model.topP,
                    maxTokens: config.model.maxTokens, seed: PortableHash.combine(PortableHash.combine(config.seed, UInt64(offset)), 0) & 0xFFFF_FFFF
                ).encoded()
            }
        })
        let url = endpoint.url("chat/completions")
        let responses = LockedBox([[UInt8]](repeating: [], count: bodies.count))
        let sending = bodies
        rows.append(try await measure("HTTP exchange") {
            try await LLMClientBenchmark.concurrentlyIndexed(sending.count, concurrency) { index in
                let response = try await http.execute(HTTPRequest.postJSON(url: url, body: sending[index], timeout: .seconds(30)))
                guard response.status == 200 else { throw TestSupportError("the stub answered \(response.status)") }
                responses.withLock { $0[index] = response.body }
            }
        })
        var completions: [ChatCompletion] = []
        let received = responses.withLock { $0 }
        rows.append(try await measure("response parsing") {
            completions = try received.map { try ChatCompletion.decode($0) }
        })
        var texts: [String] = []
        var keptTexts: [String] = []
        guard let curator = pipeline.curator(step: config.steps[0].name) else { throw TestSupportError("no curator for the step") }
        rows.append(try await measure("curation") {
            for completion in completions {
                let text = completion.choices.first?.content.trimmingWhitespace() ?? ""
                texts.append(text)
                if case .keep = curator.curate(text: text, finishReason: completion.choices.first?.finishReason.name) { keptTexts.append(text) }
            }
        })
        var signatures: [[UInt8]] = []
        guard let hasher = pipeline.hasher else { throw TestSupportError("the benchmark run has dedup off") }
        rows.append(try await measure("MinHash") {
            signatures = keptTexts.map { hasher.signature(of: $0).bytes }
        })
        var assembled: [GeneratedRecord] = []
        rows.append(try await measure("record assembly") {
            for offset in texts.indices {
                let text = texts[offset]
                assembled.append(GeneratedRecord(
                    samplePosition: offset, conditionPosition: addresses[offset].conditionPosition, sampleIndex: addresses[offset].sampleIndex,
                    condition: named[offset], promptHash: String(XXHash64.hash(prompts[offset].user), radix: 16), text: text,
                    steps: [GeneratedRecord.Step(name: "text", text: text, finishReason: "stop", promptTokens: completions[offset].promptTokens,
                                                 completionTokens: completions[offset].completionTokens)],
                    model: endpoint.model, sampling: ["temperature": 1, "top_p": 1, "seed": Double(offset), "max_tokens": 200],
                    finishReason: "stop", promptTokens: completions[offset].promptTokens ?? 0,
                    completionTokens: completions[offset].completionTokens ?? 0, status: .kept, reason: nil, detail: nil,
                    signature: signatures.isEmpty ? nil : signatures[offset % signatures.count], latencyMilliseconds: 1))
            }
        })
        if assembled.count == 42 { print("") }
        var encoded: [[UInt8]] = []
        rows.append(try await measure("batch encoding") {
            encoded = batches.map { QueueCodec.encodeBatch($0) }
        })
        let toSend = encoded
        rows.append(try await measure("Redis commands") {
            for (batch, descriptor) in zip(toSend, descriptors) { try await redisTurn(batch, descriptor) }
        })
        return rows
    }

    private func measure(_ stage: String, _ body: () async throws -> Void) async throws -> Row {
        var before = rusage(), after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        let start = Stopwatch.now()
        try await body()
        let seconds = Stopwatch.now() - start
        getrusage(RUSAGE_SELF.rawValue, &after)
        return Row(stage: stage, cpuSeconds: LLMClientBenchmark.cpu(after) - LLMClientBenchmark.cpu(before), seconds: seconds)
    }
}
