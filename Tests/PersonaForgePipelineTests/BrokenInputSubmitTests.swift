import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// `personaforge submit` on every broken input of the catalogue, against the local
/// stack's PostgreSQL and Redis: it exits 2 with the problem and writes nothing,
/// neither a run row nor a Redis key of its namespace.
@Suite struct BrokenInputSubmitTests {
    @Test(arguments: BrokenInput.catalogue)
    func submitRefusesItAndWritesNothing(input: BrokenInput) async throws {
        let harness = try PipelineHarness(llm: nil)
        // The schema exists, so that a row written by mistake would be counted.
        #expect(try await harness.run(["migrate"]).status == 0)
        try input.write(into: harness.directory)
        let result = try await harness.run(["submit", harness.directory.appendingPathComponent(input.config).path], timeout: .seconds(60))
        #expect(result.status == 2, "\(result.output)")
        let prefix = input.expectedPrefix(in: harness.directory)
        #expect(
            result.output.split(separator: "\n").contains { $0.hasPrefix(prefix) && $0.contains(input.message) },
            "expected a line starting \(prefix) with '\(input.message)', got:\n\(result.output.prefix(2000))"
        )
        #expect(try await Self.stored(in: harness) == .init(runs: 0, redisKeys: []))
    }

    /// The control: the same check sees what a valid submit writes.
    @Test func aValidConfigSubmittedTheSameWayIsStored() async throws {
        let harness = try PipelineHarness(llm: nil)
        let path = try harness.writeConfig(name: "valid-control", personas: 3, shardSize: 2)
        let id = try await harness.submit(path)
        let stored = try await Self.stored(in: harness)
        #expect(stored.runs == 1)
        #expect(stored.redisKeys == ["pf:{\(harness.namespace)}:runs"])
        _ = try await harness.run(["runs", "cancel", id])
    }

    struct Stored: Equatable {
        var runs: Int
        var redisKeys: [String]
    }

    /// The runs of the harness's namespace in PostgreSQL and its keys in Redis.
    static func stored(in harness: PipelineHarness) async throws -> Stored {
        let database = try await harness.database()
        let runs = try await database.query("SELECT count(*) AS n FROM runs WHERE namespace = $1", [harness.namespace])[0]["n"].int ?? -1
        await database.close()
        let redis = try harness.redis()
        let keys = try await redis.send("KEYS", "pf:{\(harness.namespace)}:*").array?.compactMap(\.string) ?? []
        await redis.close()
        return Stored(runs: runs, redisKeys: keys.sorted())
    }
}
