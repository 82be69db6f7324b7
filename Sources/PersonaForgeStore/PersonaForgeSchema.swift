public import Logging
public import PersonaForgePostgres

/// PersonaForge's PostgreSQL schema: the ordered list of migrations the
/// binary applies at startup.
///
/// Append new migrations with the next version; never edit one that has been
/// released (databases in the field have already applied it).
public enum PersonaForgeSchema {
    /// Every migration, in version order.
    public static let migrations: [Migration] = [
        initialSchema,
        distributedRunSchema,
        liveDiversitySchema,
        axisRejectReasonSchema,
        redisIncarnationSchema,
        compactBandIndexSchema,
        orderedDedupSchema,
        lz4ToastSchema,
        bandStoreSchema,
        bandIndexPartitionsSchema,
        orderedBandIndexSchema,
        runBudgetSchema,
    ]

    /// Applies the pending migrations on `connection` and returns the ones applied now.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Migration] {
        try await Migrator(migrations: migrations, logger: logger).migrate(connection)
    }
}
