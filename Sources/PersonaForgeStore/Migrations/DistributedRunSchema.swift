public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 2: what a distributed run needs.
    ///
    /// - `runs.namespace` ties a run to one deployment (its Redis key namespace).
    /// - `runs` keeps the config text and the contents of every file it references
    ///   (`bundle`), so workers on other machines load exactly the submitted run;
    ///   `config_hash` is no longer unique (`submit --new` runs the same config again).
    /// - `run_shards` records each finished shard once (done, dead-lettered or
    ///   cancelled): a run is complete when it holds every shard.
    /// - `axis_coverage` counts tokens spent per axis value too.
    /// - `records` gains provenance: sample position, per-step outputs, sampling
    ///   parameters, latency and the reject detail.
    public static let distributedRunSchema = Migration(
        version: 2,
        name: "distributed runs",
        sql: """
        ALTER TABLE runs DROP CONSTRAINT runs_config_hash_key;
        CREATE INDEX runs_config_hash_idx ON runs (config_hash);
        -- Each deployment (Redis namespace) has its own coordinator and its own runs.
        ALTER TABLE runs
            ADD COLUMN namespace text NOT NULL DEFAULT 'pf',
            ADD COLUMN config_yaml text NOT NULL DEFAULT '',
            ADD COLUMN config_file text NOT NULL DEFAULT '',
            ADD COLUMN base_directory text NOT NULL DEFAULT '',
            ADD COLUMN bundle jsonb NOT NULL DEFAULT '{}'::jsonb,
            ADD COLUMN model text,
            ADD COLUMN shards_done bigint NOT NULL DEFAULT 0,
            ADD COLUMN shards_dead bigint NOT NULL DEFAULT 0;

        CREATE TABLE run_shards (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            shard bigint NOT NULL CHECK (shard >= 0),
            status text NOT NULL CHECK (status IN ('done', 'dead', 'cancelled')),
            records integer NOT NULL DEFAULT 0,
            worker text,
            attempt integer,
            reason text,
            finished_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, shard)
        );

        ALTER TABLE records
            ADD COLUMN sample_position bigint,
            ADD COLUMN steps jsonb,
            ADD COLUMN sampling jsonb,
            ADD COLUMN latency_ms integer,
            ADD COLUMN reject_detail text;
        CREATE INDEX records_run_created_idx ON records (run_id, created_at);

        ALTER TABLE axis_coverage ADD COLUMN tokens bigint NOT NULL DEFAULT 0;
        """
    )
}
