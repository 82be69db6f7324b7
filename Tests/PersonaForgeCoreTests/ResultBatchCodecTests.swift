import Foundation
import Testing

@testable import PersonaForgeCore

@Suite struct ResultBatchCodecTests {
    static func sampleBatch() -> ResultBatch {
        let persona = NamedAxisValue(axis: "persona", index: 4_999, value: AxisValue("A chemist from Lima 🧪 who writes \"quotes\"\n\u{0}and NULs", fields: ["grade": "5", "é": "ü"]))
        let topic = NamedAxisValue(axis: "topic", index: 0, value: AxisValue(""))
        let kept = GeneratedRecord(
            samplePosition: 1_234_567_890_123, conditionPosition: 42, sampleIndex: 2, condition: [persona, topic],
            promptHash: "9f86d081884c7d65", text: "Ein Text über Ökologie — 数据 ✓",
            steps: [
                .init(name: "draft", text: "{\"a\": 1}", finishReason: "stop", promptTokens: 17, completionTokens: 99),
                .init(name: "final", text: "Ein Text über Ökologie — 数据 ✓", finishReason: nil, promptTokens: nil, completionTokens: 0),
            ],
            model: "smollm2", sampling: ["temperature": 0.7, "top_p": 1, "seed": 1.8446744073709552e19, "max_tokens": 256],
            finishReason: "stop", promptTokens: 17, completionTokens: 99, status: .kept, reason: nil, detail: nil,
            signature: (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37) }, latencyMilliseconds: 0, cost: 0.000_123_4)
        let failed = GeneratedRecord(
            samplePosition: 0, conditionPosition: 0, sampleIndex: 0, condition: [], promptHash: "", text: "", steps: [],
            model: "", sampling: [:], finishReason: nil, promptTokens: 0, completionTokens: 0, status: .failed,
            reason: "timeout", detail: "after 3 attempts", signature: nil, latencyMilliseconds: -1)
        var filtered = failed
        filtered.status = .filtered
        filtered.reason = "too_short"
        filtered.signature = []
        var duplicate = kept
        duplicate.status = .duplicate
        duplicate.latencyMilliseconds = Int.max
        duplicate.samplePosition = Int.min
        return ResultBatch(
            shard: ShardDescriptor(runID: "0b7f0c4e-2d7f-4a38-9a58-6a3c7d2f0d11", shard: 12, start: 1_200, count: 100),
            worker: "worker-7@host", attempt: 3, records: [kept, failed, filtered, duplicate])
    }

    @Test func everyFieldSurvivesTheRoundTrip() throws {
        let batch = Self.sampleBatch()
        let bytes = ResultBatchCodec.encode(batch)
        #expect(ResultBatchCodec.isBinary(bytes))
        #expect(try ResultBatchCodec.decode(bytes) == batch)
        // Much smaller than the JSON form: a signature is 512 raw bytes, not 512 numbers.
        let json = try JSONEncoder().encode(batch)
        #expect(bytes.count * 2 < json.count)
    }

    @Test func aVersionOneBatchFromAnOlderWorkerDecodesWithoutCosts() throws {
        let batch = Self.sampleBatch()
        let old = ResultBatchCodec.encode(batch, version: 1)
        #expect(Array(old.prefix(4)) == Array("PFB".utf8) + [1])
        #expect(Array(ResultBatchCodec.encode(batch).prefix(4)) == Array("PFB".utf8) + [2])
        var withoutCosts = batch
        for index in withoutCosts.records.indices { withoutCosts.records[index].cost = nil }
        #expect(try ResultBatchCodec.decode(old) == withoutCosts)
        // Each record's cost is one flag byte, and 8 more where there is one (kept and duplicate here).
        #expect(ResultBatchCodec.encode(batch).count == old.count + batch.records.count + 2 * 8)
    }

    @Test func anEmptyBatchRoundTrips() throws {
        let batch = ResultBatch(shard: ShardDescriptor(runID: "r", shard: 0, start: 0, count: 0), worker: "", attempt: 0, records: [])
        #expect(try ResultBatchCodec.decode(ResultBatchCodec.encode(batch)) == batch)
    }

    @Test func everyTruncationIsAnErrorNotACrash() {
        let bytes = ResultBatchCodec.encode(Self.sampleBatch())
        for length in 0..<bytes.count {
            #expect(throws: ResultBatchCodecError.self) { try ResultBatchCodec.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: ResultBatchCodecError.self) { try ResultBatchCodec.decode(bytes + [0]) }
    }

    @Test func corruptedBytesNeverCrashAndHugeCountsAllocateNothing() throws {
        let bytes = ResultBatchCodec.encode(Self.sampleBatch())
        var generator = SplitMix64(state: 7)
        for _ in 0..<2_000 {
            var corrupted = bytes
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = 4 + Int(generator.next() % UInt64(corrupted.count - 4))
                corrupted[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = try? ResultBatchCodec.decode(corrupted)  // decodes to something or throws; must not trap
        }
        // A record count of 2^62 right after the header is refused before any allocation.
        var header = ResultBatchCodec.encode(ResultBatch(
            shard: ShardDescriptor(runID: "r", shard: 0, start: 0, count: 0), worker: "", attempt: 0, records: []))
        header.removeLast()
        header += [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        #expect(throws: ResultBatchCodecError.self) { try ResultBatchCodec.decode(header) }
        #expect(throws: ResultBatchCodecError.self) { try ResultBatchCodec.decode(Array("{\"shard\":{}}".utf8)) }
    }
}

@Suite struct RecordJSONTests {
    /// The hand-written column JSON parses to exactly what `JSONEncoder` wrote before.
    @Test func columnsParseToWhatJSONEncoderWrote() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func parsed(_ text: String) throws -> NSObject {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSObject)
        }
        for record in ResultBatchCodecTests.sampleBatch().records {
            #expect(try parsed(RecordJSON.condition(record.condition))
                == parsed(String(decoding: try encoder.encode(record.condition), as: UTF8.self)))
            #expect(try parsed(RecordJSON.steps(record.steps))
                == parsed(String(decoding: try encoder.encode(record.steps), as: UTF8.self)))
            #expect(try parsed(RecordJSON.sampling(record.sampling))
                == parsed(String(decoding: try encoder.encode(record.sampling), as: UTF8.self)))
        }
        #expect(RecordJSON.sampling(["a": .infinity, "b": 2, "c": 0.25]) == #"{"a":null,"b":2,"c":0.25}"#)
        #expect(RecordJSON.steps([]) == "[]")
    }
}

/// Inputs the fuzzer (deploy/local/fuzz.sh result-batch) found, kept as regressions.
@Suite("Result batch codec: fuzzer findings")
struct ResultBatchCodecFuzzFindings {
    /// A batch that decoded but whose re-encoding did not decode.
    @Test func whatDecodesReencodesToTheSameBatch() throws {
        let bytes: [UInt8] = [80, 70, 66, 1, 3, 114, 117, 110, 1, 0, 2, 1, 119, 0, 1, 0, 251, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 33]
        guard let batch = try? ResultBatchCodec.decode(bytes) else { return }
        let again = try ResultBatchCodec.decode(ResultBatchCodec.encode(batch))
        #expect(again == batch)
    }
}
