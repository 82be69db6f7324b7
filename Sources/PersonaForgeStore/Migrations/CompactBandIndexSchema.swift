public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 6: a band index a third the size.
    ///
    /// Version 1's `lsh_bands` row repeated the scope text (`run:<uuid>`, 41 bytes),
    /// the record key (uuid, position, sample) and a `created_at`, in the heap and
    /// the primary key: 275 bytes per band row, measured (docs/dedup.md). Now:
    ///
    /// - `dedup_scopes` names each scope once; band rows carry its integer id;
    /// - `record_signatures` gains `id`, a number from a sequence allocated under
    ///   the scope's lock, so it also orders records by when they were first
    ///   seen (replacing `created_at`); band rows carry it instead of the key.
    ///
    /// A band row is then (scope_id int, band smallint, bucket bigint, signature_id
    /// bigint). Existing rows are converted: ids follow each record's earliest band
    /// row, so "first seen wins" keeps its meaning for what was indexed before.
    public static let compactBandIndexSchema = Migration(
        version: 6,
        name: "compact band index",
        sql: """
        CREATE TABLE dedup_scopes (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            scope text NOT NULL UNIQUE
        );
        INSERT INTO dedup_scopes (scope) SELECT DISTINCT scope FROM lsh_bands ORDER BY 1;

        CREATE SEQUENCE record_signature_ids AS bigint;
        ALTER TABLE record_signatures ADD COLUMN id bigint;
        WITH first_seen AS (
            SELECT run_id, position, sample, min(created_at) AS at FROM lsh_bands GROUP BY 1, 2, 3
        ), ordered AS (
            SELECT s.run_id, s.position, s.sample,
                   row_number() OVER (ORDER BY f.at NULLS LAST, s.run_id, s.position, s.sample) AS n
            FROM record_signatures s LEFT JOIN first_seen f USING (run_id, position, sample)
        )
        UPDATE record_signatures s SET id = o.n FROM ordered o
        WHERE s.run_id = o.run_id AND s.position = o.position AND s.sample = o.sample;
        SELECT setval('record_signature_ids', coalesce((SELECT max(id) FROM record_signatures), 0) + 1, false);
        ALTER TABLE record_signatures ALTER COLUMN id SET NOT NULL;
        ALTER SEQUENCE record_signature_ids OWNED BY record_signatures.id;
        CREATE UNIQUE INDEX record_signatures_id_key ON record_signatures (id);

        CREATE TABLE lsh_bands_compact (
            scope_id integer NOT NULL,
            band smallint NOT NULL CHECK (band >= 0),
            bucket bigint NOT NULL,
            signature_id bigint NOT NULL,
            PRIMARY KEY (scope_id, band, bucket, signature_id)
        ) PARTITION BY HASH (bucket);
        \((0..<lshBandPartitions).map { partition in
            "CREATE TABLE lsh_bands_compact_p\(partition) PARTITION OF lsh_bands_compact "
                + "FOR VALUES WITH (MODULUS \(lshBandPartitions), REMAINDER \(partition));"
        }.joined(separator: "\n"))
        INSERT INTO lsh_bands_compact (scope_id, band, bucket, signature_id)
        SELECT d.id, b.band, b.bucket, s.id
        FROM lsh_bands b
        JOIN dedup_scopes d ON d.scope = b.scope
        JOIN record_signatures s ON s.run_id = b.run_id AND s.position = b.position AND s.sample = b.sample;

        DROP TABLE lsh_bands;
        ALTER TABLE lsh_bands_compact RENAME TO lsh_bands;
        ALTER INDEX lsh_bands_compact_pkey RENAME TO lsh_bands_pkey;
        \((0..<lshBandPartitions).map { partition in
            "ALTER TABLE lsh_bands_compact_p\(partition) RENAME TO lsh_bands_p\(partition); "
                + "ALTER INDEX lsh_bands_compact_p\(partition)_pkey RENAME TO lsh_bands_p\(partition)_pkey;"
        }.joined(separator: "\n"))
        """
    )
}
