import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// Reducers with `--band-index-url` on a real 3-node Redis Cluster: the kept set is
/// the same with 1 worker and 1 reducer as with 3 workers, 2 reducers and a kill -9,
/// and it is the ordered rule's (each persona's earliest sample), with no band row in
/// PostgreSQL.
@Suite struct RedisBandIndexPipelineTests {
    @Test func theKeptSetWithTheIndexInARedisClusterDependsOnlyOnTheConfig() async throws {
        let cluster = try RedisClusterProcess()
        let harness = try PipelineHarness(llm: "slow")
        let index = ["PERSONAFORGE_BAND_INDEX_URL": cluster.url]
        let config = try harness.writeConfig(name: "cluster-index", personas: 20, samples: 3, shardSize: 3)
        let database = try await harness.database()
        let (serial, parallel, records) = try await harness.runSeriallyThenInParallelWithAReducerKilled(config, reducerEnvironment: index)
        #expect(records == 60)

        let serialKept = try await harness.keptKeys(serial, database: database)
        let parallelKept = try await harness.keptKeys(parallel, database: database)
        #expect(serialKept.count == 20, "one kept record per persona: \(serialKept)")
        #expect(serialKept == parallelKept)
        #expect(parallelKept == (try await harness.earliestSampleKeys(parallel, database: database)))
        // The band rows are in the cluster, on more than one node, and none in PostgreSQL.
        for run in [serial, parallel] {
            let scope = try #require(try await database.query(
                "SELECT id, band_store FROM dedup_scopes WHERE scope = $1", ["run:\(run)"]).first)
            #expect(scope["band_store"].string == "redis")
            let rows = try await database.query("SELECT count(*) AS n FROM lsh_bands WHERE scope_id = $1", [String(scope["id"].int ?? -1)])
            #expect(rows.first?["n"].int == 0)
        }
        var nodesWithKeys = 0
        for port in cluster.ports {
            let node = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0"))
            if (try await node.send("DBSIZE").integer ?? 0) > 0 { nodesWithKeys += 1 }
        }
        #expect(nodesWithKeys >= 2)
        await database.close()
    }
}
