public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 11: band rows kept in the dedup order, so a probe reads a bucket's
    /// earliest holders and its later ones instead of every holder.
    ///
    /// A bucket of a family of near copies holds one row per member. Version 7's probe
    /// read them all and looked up each one's place in the order: O(family) rows per
    /// record, O(family²) per family (646 µs of PostgreSQL per record at 400,000
    /// records with families of about 1,250, docs/benchmarks.md). Now a band row
    /// carries its record's place (`run_order`, `sample_position`) and the primary key
    /// is ordered by it, so the probe takes the first few holders earlier than the
    /// record, paging on only when none of them is a confirmed near duplicate, plus the
    /// holders later than it (which it may mark), each as one index range scan.
    ///
    /// That needs (`run_order`, `sample_position`) to be the whole order: runs used to
    /// be ordered by `created_at` and then by id for runs submitted in the same
    /// microsecond. `created_at` becomes unique (runs already tied are moved apart by a
    /// microsecond each in id order, which keeps their order, and their signatures
    /// follow), and new runs take `clock_timestamp()`, so that two runs inserted in
    /// one transaction differ too; a submit that still collides is retried
    /// (``RunRepository/insert(_:)``).
    ///
    /// Existing band rows get their place from `record_signatures`. Rows whose signature
    /// is gone could never be confirmed (the probe found no signature for them) and are
    /// dropped.
    public static let orderedBandIndexSchema = Migration(
        version: 11,
        name: "ordered band index",
        sql: """
        UPDATE runs u SET created_at = u.created_at + (t.rank - 1) * interval '1 microsecond'
        FROM (SELECT id, row_number() OVER (PARTITION BY created_at ORDER BY id) AS rank FROM runs) AS t
        WHERE t.id = u.id AND t.rank > 1;
        CREATE UNIQUE INDEX runs_created_at_key ON runs (created_at);
        ALTER TABLE runs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
        UPDATE record_signatures s SET run_order = (extract(epoch FROM u.created_at) * 1000000)::bigint
        FROM runs u
        WHERE u.id = s.run_id AND s.run_order <> (extract(epoch FROM u.created_at) * 1000000)::bigint;

        ALTER TABLE lsh_bands ADD COLUMN run_order bigint, ADD COLUMN sample_position bigint;
        UPDATE lsh_bands b SET run_order = s.run_order, sample_position = s.sample_position
        FROM record_signatures s WHERE s.id = b.signature_id;
        DELETE FROM lsh_bands WHERE run_order IS NULL;
        ALTER TABLE lsh_bands ALTER COLUMN run_order SET NOT NULL, ALTER COLUMN sample_position SET NOT NULL;
        ALTER TABLE lsh_bands DROP CONSTRAINT lsh_bands_pkey;
        ALTER TABLE lsh_bands ADD PRIMARY KEY (scope_id, band, bucket, run_order, sample_position, signature_id);
        """
    )
}
