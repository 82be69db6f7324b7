import Foundation
import Logging
import PersonaForgePostgres
import PersonaForgeRedis
import PersonaForgeStore
import PersonaForgeTestSupport
import Testing

/// `personaforge doctor --band-index-url`: a real redis-server as the index, a private
/// PostgreSQL schema holding a Redis scope and the partitions its calls created.
@Suite struct DoctorBandIndexTests {
    static let databaseURL = ProcessInfo.processInfo.environment["PERSONAFORGE_DATABASE_URL"]
        ?? "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"

    @Test func doctorFindsALostPartitionAndNamesTheRebuild() async throws {
        let server = try RedisServerProcess(fsync: "everysec")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let admin = try await PostgresConnection.connect(to: Self.databaseURL, logger: logger)
        let schema = "doctor_index_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try await admin.execute("CREATE SCHEMA \(schema)")
        let url = Self.databaseURL + (Self.databaseURL.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
        do {
            let connection = try await PostgresConnection.connect(to: url, logger: logger)
            try await PersonaForgeSchema.migrate(connection, logger: logger)
            let scopeID = try #require(try await connection.query(
                "INSERT INTO dedup_scopes (scope, band_store) VALUES ('run:doctor', 'redis') RETURNING id").first?["id"].int)
            try await connection.execute("INSERT INTO band_index_partitions (scope_id, partition) VALUES ($1, 0), ($1, 1)", [String(scopeID)])
            await connection.close()
            // Partition 0 is in the index; partition 1 was lost.
            let redis = RedisConnection(configuration: try RedisConfiguration(url: server.url))
            _ = try await redis.send("HSET", "pf:ns1:lsh:\(scopeID):{\(scopeID).0}", "field", "id")
            let environment = ["PERSONAFORGE_DATABASE_URL": url, "PERSONAFORGE_BAND_INDEX_URL": server.url, "PERSONAFORGE_NAMESPACE": "ns1"]

            let lost = try await CLI.run(["doctor", "--only", "postgres"], environment: environment)
            #expect(lost.status == 1, "\(lost.output)")
            #expect(lost.standardOutput.contains("dedup scope \(scopeID): 1 of 2 partitions are missing"), "\(lost.output)")
            #expect(lost.standardOutput.contains("personaforge band-index rebuild --scope-id \(scopeID)"))
            #expect(lost.standardOutput.contains("appendfsync everysec"), "the persistence warning: \(lost.output)")

            _ = try await redis.send("HSET", "pf:ns1:lsh:\(scopeID):{\(scopeID).1}", "field", "id")
            let whole = try await CLI.run(["doctor", "--only", "postgres"], environment: environment)
            #expect(whole.status == 0, "\(whole.output)")
            #expect(whole.standardOutput.contains("1 scope in Redis, 2 partitions, none missing"), "\(whole.output)")
        } catch {
            _ = try? await admin.execute("DROP SCHEMA \(schema) CASCADE")
            await admin.close()
            throw error
        }
        try await admin.execute("DROP SCHEMA \(schema) CASCADE")
        await admin.close()
    }
}
