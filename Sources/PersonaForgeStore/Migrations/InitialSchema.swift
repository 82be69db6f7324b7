public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Number of hash partitions of `lsh_bands` (by bucket).
    static let lshBandPartitions = 16

    /// Version 1: runs, records, their MinHash signatures, the LSH band index,
    /// metric snapshots and per-axis coverage.
    ///
    /// Every key starts with the run (or dedup scope), so the large tables can
    /// be distributed by it (Citus) or partitioned later; `lsh_bands` is
    /// hash-partitioned by bucket from the start because it grows with every
    /// kept record times the number of bands.
    public static let initialSchema = Migration(
        version: 1,
        name: "initial schema",
        sql: """
        -- A submitted run: its configuration, progress cursor and counters.
        CREATE TABLE runs (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            config jsonb NOT NULL,
            -- Hash of the normalized config: submitting the same config twice is refused.
            config_hash text NOT NULL CONSTRAINT runs_config_hash_key UNIQUE,
            state text NOT NULL DEFAULT 'pending'
                CONSTRAINT runs_state_check
                CHECK (state IN ('pending', 'running', 'paused', 'cancelled', 'completed', 'failed')),
            seed bigint NOT NULL DEFAULT 0,
            condition_count bigint NOT NULL CHECK (condition_count >= 0),
            samples_per_condition integer NOT NULL DEFAULT 1 CHECK (samples_per_condition > 0),
            -- The sampling budget (`limit`); NULL means the whole space.
            target_count bigint CHECK (target_count >= 0),
            shard_size integer NOT NULL CHECK (shard_size > 0),
            shard_count bigint NOT NULL CHECK (shard_count >= 0),
            -- Coordinator cursor: the next shard to enqueue.
            next_shard bigint NOT NULL DEFAULT 0 CHECK (next_shard >= 0),
            records_generated bigint NOT NULL DEFAULT 0,
            records_kept bigint NOT NULL DEFAULT 0,
            records_filtered bigint NOT NULL DEFAULT 0,
            records_failed bigint NOT NULL DEFAULT 0,
            records_duplicate bigint NOT NULL DEFAULT 0,
            prompt_tokens bigint NOT NULL DEFAULT 0,
            completion_tokens bigint NOT NULL DEFAULT 0,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz
        );
        CREATE INDEX runs_state_idx ON runs (state, created_at);

        -- One generated sample, keyed deterministically by (run, position, sample)
        -- so that redelivered batches never duplicate a row.
        CREATE TABLE records (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            position bigint NOT NULL CHECK (position >= 0),
            sample integer NOT NULL CHECK (sample >= 0),
            condition jsonb NOT NULL,
            prompt_hash text,
            text text,
            model text,
            finish_reason text,
            prompt_tokens integer,
            completion_tokens integer,
            judge_score double precision,
            status text NOT NULL
                CONSTRAINT records_status_check
                CHECK (status IN ('kept', 'filtered', 'failed', 'duplicate')),
            reject_reason text,
            duplicate_of_run_id uuid,
            duplicate_of_position bigint,
            duplicate_of_sample integer,
            worker text,
            attempt integer NOT NULL DEFAULT 1 CHECK (attempt > 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, position, sample),
            CONSTRAINT records_duplicate_of_check CHECK (
                (status = 'duplicate') = (duplicate_of_position IS NOT NULL)
            )
        );
        CREATE INDEX records_run_status_idx ON records (run_id, status);

        -- MinHash signatures of kept records, to confirm LSH candidates by
        -- estimated Jaccard similarity after a reducer restart.
        CREATE TABLE record_signatures (
            run_id uuid NOT NULL,
            position bigint NOT NULL,
            sample integer NOT NULL,
            signature bytea NOT NULL,
            PRIMARY KEY (run_id, position, sample),
            FOREIGN KEY (run_id, position, sample) REFERENCES records (run_id, position, sample) ON DELETE CASCADE
        );

        -- The LSH band index for near-duplicate detection: which records fell
        -- into a bucket of a band. `scope` is the dedup scope (usually the run
        -- id as text; a shared scope dedups across runs). Partitioned by bucket
        -- so that it is not bounded by one machine's memory.
        CREATE TABLE lsh_bands (
            scope text NOT NULL,
            band smallint NOT NULL CHECK (band >= 0),
            bucket bigint NOT NULL,
            run_id uuid NOT NULL,
            position bigint NOT NULL,
            sample integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            -- Leading columns serve the lookup (scope, band, bucket).
            PRIMARY KEY (scope, band, bucket, run_id, position, sample)
        ) PARTITION BY HASH (bucket);
        \((0..<lshBandPartitions).map { partition in
            "CREATE TABLE lsh_bands_p\(partition) PARTITION OF lsh_bands "
                + "FOR VALUES WITH (MODULUS \(lshBandPartitions), REMAINDER \(partition));"
        }.joined(separator: "\n"))

        -- Diversity metrics over time (distinct-n, entropy, compression ratio,
        -- self-BLEU, embedding diversity, ...), live and final.
        CREATE TABLE metric_snapshots (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            snapshot bigint GENERATED ALWAYS AS IDENTITY,
            taken_at timestamptz NOT NULL DEFAULT now(),
            records_seen bigint NOT NULL CHECK (records_seen >= 0),
            is_final boolean NOT NULL DEFAULT false,
            metrics jsonb NOT NULL,
            PRIMARY KEY (run_id, snapshot)
        );
        CREATE INDEX metric_snapshots_run_taken_idx ON metric_snapshots (run_id, taken_at DESC);

        -- Coverage and yield per axis value: which personas/topics produce usable data.
        CREATE TABLE axis_coverage (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            axis text NOT NULL,
            value_index bigint NOT NULL CHECK (value_index >= 0),
            -- Display form of the value (NULL for table-backed axes too large to copy).
            value_label text,
            generated bigint NOT NULL DEFAULT 0,
            kept bigint NOT NULL DEFAULT 0,
            filtered bigint NOT NULL DEFAULT 0,
            failed bigint NOT NULL DEFAULT 0,
            duplicate bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, axis, value_index)
        );
        """
    )
}
