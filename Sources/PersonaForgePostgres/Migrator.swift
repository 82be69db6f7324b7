public import Logging

/// Applies pending ``Migration``s to the current schema of a connection.
///
/// - Each pending migration runs in its own transaction together with the
///   insert into `schema_migrations(version, name, applied_at)`, so it is
///   applied completely or not at all.
/// - Running it again applies nothing: applied versions are skipped.
/// - Concurrent migrators (several replicas starting at once) are safe: every
///   transaction first takes a transaction-scoped advisory lock keyed on the
///   current schema, and re-checks `schema_migrations` under the lock.
/// - Versions in the database that the list does not know (a newer binary ran)
///   and name mismatches are logged as warnings, not errors.
///
/// ```swift
/// let applied = try await Migrator(migrations: PersonaForgeSchema.migrations, logger: logger)
///     .migrate(connection)
/// ```
public struct Migrator: Sendable {
    /// The migrations, sorted by version.
    public let migrations: [Migration]
    /// Receives one line per applied migration.
    public let logger: Logger

    /// The advisory lock class ("PFMG"); the object id is a hash of the current schema.
    static let lockClass: Int32 = 0x5046_4D47

    /// Creates a migrator.
    ///
    /// - Throws: ``PostgresError/Code/migrationFailed`` if two migrations share a
    ///   version or a version is not positive.
    public init(migrations: [Migration], logger: Logger) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(
                code: .migrationFailed,
                message: "migrations '\(previous.name)' and '\(next.name)' both have version \(next.version); "
                    + "give each migration its own version"
            )
        }
        if let first = sorted.first, first.version <= 0 {
            throw PostgresError(
                code: .migrationFailed,
                message: "migration '\(first.name)' has version \(first.version); versions must be positive"
            )
        }
        self.migrations = sorted
        self.logger = logger
    }

    /// Applies every pending migration and returns the ones this call applied
    /// (empty when the schema is up to date).
    ///
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/migrationFailed``
    ///   naming the migration that failed (with the server's SQLSTATE); earlier
    ///   migrations stay applied.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) async throws -> [Migration] {
        try await connection.transaction { connection in
            try Self.lock(connection)
            try connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
        }
        let alreadyApplied = try await appliedMigrations(connection)
        warnAboutDrift(alreadyApplied)
        let appliedVersions = Set(alreadyApplied.map(\.version))

        var appliedNow: [Migration] = []
        for migration in migrations where !appliedVersions.contains(migration.version) {
            let didApply: Bool
            do {
                didApply = try await connection.transaction { connection in
                    try Self.lock(connection)
                    let existing = try connection.query(
                        "SELECT 1 FROM schema_migrations WHERE version = $1", [String(migration.version)]
                    )
                    // Another migrator applied it while we waited for the lock.
                    guard existing.isEmpty else { return false }
                    try connection.executeScript(migration.sql)
                    try connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [String(migration.version), migration.name]
                    )
                    return true
                }
            } catch let error as PostgresError {
                var failure = error
                failure.code = .migrationFailed
                failure.message = "migration \(migration.version) '\(migration.name)' failed and was rolled back: "
                    + "\(error.message). Fix it with a new migration; earlier migrations stay applied"
                throw failure
            }
            if didApply {
                logger.info(
                    "applied schema migration",
                    metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
                )
                appliedNow.append(migration)
            }
        }
        return appliedNow
    }

    /// The contents of `schema_migrations`, by version (empty if the table does not exist yet).
    public func appliedMigrations(_ connection: PostgresConnection) async throws -> [AppliedMigration] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard exists.first?["present"].bool == true else { return [] }
        return try await connection.query(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ).map { row in
            AppliedMigration(
                version: row["version"].int ?? 0,
                name: row["name"].string ?? "",
                appliedAt: row["applied_at"].string ?? ""
            )
        }
    }

    /// Serializes migrators working on the same schema until the transaction ends.
    private static func lock(_ connection: isolated PostgresConnection) throws {
        try connection.execute(
            "SELECT pg_advisory_xact_lock($1::integer, hashtext(coalesce(current_schema(), '')))",
            [String(lockClass)]
        )
    }

    private func warnAboutDrift(_ applied: [AppliedMigration]) {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0.name) })
        for record in applied {
            if let name = known[record.version] {
                if name != record.name {
                    logger.warning(
                        "schema migration name differs from the one applied",
                        metadata: [
                            "migration.version": "\(record.version)",
                            "migration.applied": "\(record.name)",
                            "migration.expected": "\(name)",
                        ]
                    )
                }
            } else {
                logger.warning(
                    "database has a schema migration this binary does not know (was a newer version run?)",
                    metadata: ["migration.version": "\(record.version)", "migration.name": "\(record.name)"]
                )
            }
        }
    }
}
