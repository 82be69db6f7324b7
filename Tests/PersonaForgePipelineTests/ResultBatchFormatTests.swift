import Foundation
import PersonaForgeCore
import PersonaForgeQueue
import PersonaForgeRedis
import Testing

/// The results stream's batch format against a real Redis, PostgreSQL and reducer.
@Suite(.serialized) struct ResultBatchFormatTests {
    /// Workers of earlier versions pushed batches as JSON; after an upgrade the reducer
    /// still stores them, and a binary batch that does not decode is dead-lettered.
    @Test func aBatchInTheJSONFormOfEarlierWorkersIsStoredAndAGarbledBinaryOneIsDeadLettered() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let config = try harness.writeConfig(name: "batch-format", personas: 3, shardSize: 3, extra: "dedup:\n  enabled: false")
        let runID = try await harness.submit(config)
        let layout = QueueLayout(namespace: harness.namespace)
        let redis = try harness.redis()
        try await redis.createGroup(layout.results, group: layout.reducersGroup)

        let records = (0..<3).map { position in
            GeneratedRecord(
                samplePosition: position, conditionPosition: position, sampleIndex: 0,
                condition: [NamedAxisValue(axis: "persona", index: position, value: AxisValue("persona number \(position)"))],
                promptHash: "hash\(position)", text: "an answer from the JSON era, number \(position)",
                steps: [.init(name: "question", text: "an answer from the JSON era, number \(position)", finishReason: "stop", promptTokens: 5, completionTokens: 9)],
                model: "fixture-model", sampling: ["temperature": 0.8], finishReason: "stop", promptTokens: 5,
                completionTokens: 9, status: .kept, reason: nil, detail: nil, latencyMilliseconds: 3)
        }
        let batch = ResultBatch(shard: ShardDescriptor(runID: runID, shard: 0, start: 0, count: 3), worker: "old-worker", attempt: 1, records: records)
        let json = try QueueCodec.encode(batch)  // the Codable JSON form of earlier workers
        #expect(json.first == UInt8(ascii: "{"))
        try await redis.xadd(layout.results, fields: [(QueueCodec.field, json)])
        try await redis.xadd(layout.results, fields: [(QueueCodec.field, Array("PFB".utf8) + [1, 0xFF, 0xFF, 0xFF])])

        _ = try harness.start(["reducer"])
        let counts = try await harness.waitFor(runID, timeout: .seconds(60)) { $0.records == 3 }
        #expect(counts.kept == 3)
        let database = try await harness.database()
        let texts = try await database.query("SELECT text FROM records WHERE run_id = $1::uuid ORDER BY sample_position", [runID])
        #expect(texts.map { $0["text"].string } == records.map(\.text))
        await database.close()

        let deadline = ContinuousClock.now + .seconds(30)
        var dead = 0
        while ContinuousClock.now < deadline {
            dead = Int(try await redis.send("XLEN", layout.deadLetters).integer ?? 0)
            if dead > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(dead == 1)
        #expect(harness.log(of: 0).contains("undecodable result batch"))
    }
}
