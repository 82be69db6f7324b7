import Testing
import PersonaForgePostgres
import PersonaForgeStore

let sampleMigrations = [
    Migration(version: 1, name: "create widgets", sql: "CREATE TABLE widgets (id integer PRIMARY KEY)"),
    Migration(
        version: 2,
        name: "add name",
        sql: """
        ALTER TABLE widgets ADD COLUMN name text;
        SELECT pg_sleep(0.05);
        CREATE INDEX widgets_name_idx ON widgets (name);
        """
    ),
    Migration(version: 3, name: "seed", sql: "INSERT INTO widgets VALUES (1, 'first')"),
]

@Suite("Schema migrations")
struct MigratorTests {
    @Test func appliesOnceAndRecordsVersions() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let migrator = try Migrator(migrations: sampleMigrations.reversed(), logger: TestDatabase.quietLogger)
            let first = try await migrator.migrate(connection)
            #expect(first.map(\.version) == [1, 2, 3])
            let second = try await migrator.migrate(connection)
            #expect(second.isEmpty)

            let applied = try await migrator.appliedMigrations(connection)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(applied.map(\.name) == ["create widgets", "add name", "seed"])
            #expect(applied.allSatisfy { !$0.appliedAt.isEmpty })
            #expect(try await connection.query("SELECT count(*) AS n FROM widgets").first?["n"].int == 1)

            // A later release adds a migration: only it is applied.
            let next = try Migrator(
                migrations: sampleMigrations + [Migration(version: 4, name: "more", sql: "ALTER TABLE widgets ADD COLUMN size int")],
                logger: TestDatabase.quietLogger
            )
            #expect(try await next.migrate(connection).map(\.version) == [4])
            await connection.close()
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestDatabase.withSchema { schema in
            let migrator = try Migrator(migrations: sampleMigrations, logger: TestDatabase.quietLogger)
            let appliedCounts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let connection = try await schema.connect()
                        let applied = try await migrator.migrate(connection)
                        await connection.close()
                        return applied.count
                    }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            #expect(appliedCounts.reduce(0, +) == sampleMigrations.count)
            let connection = try await schema.connect()
            let recorded = try await connection.query("SELECT version FROM schema_migrations ORDER BY version")
            #expect(recorded.map { $0["version"].int } == [1, 2, 3])
            #expect(try await connection.query("SELECT count(*) AS n FROM widgets").first?["n"].int == 1)
            await connection.close()
        }
    }

    @Test func failedMigrationIsRolledBackAndReported() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let broken = [
                sampleMigrations[0],
                Migration(version: 2, name: "broken", sql: "CREATE TABLE half_done (id int); SELEC nonsense"),
            ]
            let error = try await #require(throws: PostgresError.self) {
                try await Migrator(migrations: broken, logger: TestDatabase.quietLogger).migrate(connection)
            }
            #expect(error.code == .migrationFailed)
            #expect(error.sqlState == "42601")
            #expect(error.message.contains("broken"))
            let recorded = try await connection.query("SELECT version FROM schema_migrations")
            #expect(recorded.map { $0["version"].int } == [1])
            let halfDone = try await connection.query("SELECT to_regclass('half_done') IS NULL AS absent")
            #expect(halfDone.first?["absent"].bool == true)
            await connection.close()
        }
    }

    @Test func duplicateVersionsAreRejected() {
        #expect(throws: PostgresError.self) {
            try Migrator(
                migrations: [sampleMigrations[0], Migration(version: 1, name: "again", sql: "SELECT 1")],
                logger: TestDatabase.quietLogger
            )
        }
    }

    @Test func personaForgeSchemaApplies() async throws {
        try await TestDatabase.withSchema { schema in
            let connection = try await schema.connect()
            let applied = try await PersonaForgeSchema.migrate(connection, logger: TestDatabase.quietLogger)
            #expect(applied.count == PersonaForgeSchema.migrations.count)
            #expect(try await PersonaForgeSchema.migrate(connection, logger: TestDatabase.quietLogger).isEmpty)

            let tables = try await connection.query(
                """
                SELECT table_name FROM information_schema.tables
                WHERE table_schema = $1 AND table_name NOT LIKE 'lsh_bands_p%' ORDER BY table_name
                """,
                [schema.name]
            ).map { $0["table_name"].string ?? "" }
            #expect(tables == [
                "axis_coverage", "axis_reject_reasons", "band_index_partitions", "dedup_scopes", "diversity_pending", "diversity_states", "lsh_bands", "metric_snapshots", "record_signatures",
                "records", "redis_incarnations", "run_shards", "runs", "schema_migrations",
            ])

            // The same config may run twice (`submit --new`); the same run id may not.
            let runID = "00000000-0000-0000-0000-000000000001"
            let insertRun = """
                INSERT INTO runs (id, name, config, config_hash, condition_count, shard_size, shard_count)
                VALUES ($1, 'demo', '{"axes": {}}', 'hash-1', 100, 10, 10)
                """
            try await connection.execute(insertRun, [runID])
            try await connection.execute(insertRun, ["00000000-0000-0000-0000-000000000002"])
            let duplicate = try await #require(throws: PostgresError.self) {
                try await connection.execute(insertRun, [runID])
            }
            #expect(duplicate.constraintName == "runs_pkey")

            // Records arrive by COPY; the key makes redelivery detectable.
            let copied = try await connection.copy(
                into: "records",
                columns: ["run_id", "position", "sample", "condition", "text", "status"],
                rows: [
                    [runID, "0", "0", #"{"persona": "a chemist"}"#, "tab\tand \\N", "kept"],
                    [runID, "1", "0", #"{"persona": "a poet"}"#, nil, "failed"],
                ]
            )
            #expect(copied == 2)
            let redelivered = try await #require(throws: PostgresError.self) {
                try await connection.copy(
                    into: "records",
                    columns: ["run_id", "position", "sample", "condition", "status"],
                    rows: [[runID, "0", "0", "{}", "kept"]]
                )
            }
            #expect(redelivered.sqlState == "23505")

            try await connection.execute("INSERT INTO lsh_bands (scope_id, band, bucket, signature_id, run_order, sample_position) VALUES (7, 3, -42, 11, 5, 9)")
            let candidates = try await connection.query(
                "SELECT signature_id FROM lsh_bands WHERE scope_id = 7 AND band = 3 AND bucket = -42"
            )
            #expect(candidates.first?["signature_id"].int == 11)
            await connection.close()
        }
    }
}
