public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 10: the partitions of each scope's shared band index (Redis) that
    /// exist, as the calls that created them reported. A later call expects them, so
    /// an index Redis that lost them (restarted empty, failed over to a stale replica)
    /// is refused instead of silently letting near duplicates through
    /// (`RedisBandIndex`, `BandIndexLostError`). Scopes in `lsh_bands` have no rows.
    /// `dedup_scopes.band_index_rebuilding` is set while `personaforge band-index
    /// rebuild` refills a scope's index; reducers decide nothing of it meanwhile.
    public static let bandIndexPartitionsSchema = Migration(
        version: 10,
        name: "shared band index partitions",
        sql: """
        CREATE TABLE band_index_partitions (
            scope_id integer NOT NULL REFERENCES dedup_scopes (id),
            partition integer NOT NULL CHECK (partition >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope_id, partition)
        );
        ALTER TABLE dedup_scopes ADD COLUMN band_index_rebuilding boolean NOT NULL DEFAULT false;
        """
    )
}
