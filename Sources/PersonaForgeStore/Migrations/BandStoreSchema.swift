public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 9: where each dedup scope keeps its band rows.
    ///
    /// `postgres` (the `lsh_bands` table, as every scope before this version) or
    /// `redis` (a shared index in Redis / Redis Cluster, `RedisBandIndex`; the
    /// signatures stay in `record_signatures`). A scope's store is fixed when the scope
    /// is created, and a reducer configured with the other store refuses to decide it:
    /// half the band rows in each place would let near duplicates through.
    public static let bandStoreSchema = Migration(
        version: 9,
        name: "band store per dedup scope",
        sql: """
        ALTER TABLE dedup_scopes ADD COLUMN band_store text NOT NULL DEFAULT 'postgres'
            CHECK (band_store IN ('postgres', 'redis'));
        """
    )
}
