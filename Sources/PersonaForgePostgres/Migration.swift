/// One versioned schema change.
///
/// Versions are applied in ascending order, each in its own transaction, and
/// recorded in `schema_migrations`. Once a migration has been applied
/// anywhere, never edit it: add a new one with a higher version.
///
/// The SQL runs inside the migrator's transaction: it must not contain
/// `BEGIN` / `COMMIT`, nor statements PostgreSQL refuses inside a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
public struct Migration: Sendable, Hashable {
    /// Unique, positive; defines the order.
    public let version: Int
    /// A short description, recorded with the version.
    public let name: String
    /// The SQL to run; may hold several statements separated by `;`.
    public let sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// A row of `schema_migrations`: a migration that has been applied.
public struct AppliedMigration: Sendable, Hashable {
    /// The migration's version.
    public let version: Int
    /// The name recorded when it was applied.
    public let name: String
    /// When it was applied, as PostgreSQL's text for `timestamptz`.
    public let appliedAt: String

    /// Creates a record of an applied migration.
    public init(version: Int, name: String, appliedAt: String) {
        self.version = version
        self.name = name
        self.appliedAt = appliedAt
    }
}
