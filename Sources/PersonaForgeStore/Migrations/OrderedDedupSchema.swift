public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 7: the deterministic dedup order (docs/dedup.md, "The rule").
    ///
    /// Decisions no longer follow arrival under a scope lock: a record is a duplicate
    /// of an earlier record *in sample order* (runs by submission, then sample
    /// position), so every signature carries its place in that order. Existing rows
    /// get it from their record and run; the index itself is kept as it is. The
    /// signature → record foreign key is checked at commit.
    public static let orderedDedupSchema = Migration(
        version: 7,
        name: "ordered dedup",
        sql: """
        ALTER TABLE record_signatures ADD COLUMN run_order bigint, ADD COLUMN sample_position bigint;
        UPDATE record_signatures s
        SET run_order = (extract(epoch FROM u.created_at) * 1000000)::bigint,
            sample_position = coalesce(r.sample_position, r.position)
        FROM records r JOIN runs u ON u.id = r.run_id
        WHERE r.run_id = s.run_id AND r.position = s.position AND r.sample = s.sample;
        ALTER TABLE record_signatures ALTER COLUMN run_order SET NOT NULL, ALTER COLUMN sample_position SET NOT NULL;
        -- Signatures are published before their records are inserted in the same transaction
        -- (the hot counter rows are then locked only at the end of it).
        ALTER TABLE record_signatures ALTER CONSTRAINT record_signatures_run_id_position_sample_fkey DEFERRABLE INITIALLY DEFERRED;
        """
    )
}
