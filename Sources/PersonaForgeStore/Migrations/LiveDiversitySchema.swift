public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 3: diversity maintained live by the reducers.
    ///
    /// - `diversity_states` holds one partial `DiversityAccumulator` per (run,
    ///   reducer): the kept records that reducer inserted, up to its last persist.
    ///   Partials cover disjoint sets of records, so readers merge all rows of a run.
    /// - `diversity_pending` lists the kept records a reducer inserted since its
    ///   last persist (written in the same transaction as the records, deleted in
    ///   the transaction that persists the state). A reader folds them into that
    ///   reducer's partial, so no record is ever counted twice or lost, whenever
    ///   a reducer dies.
    public static let liveDiversitySchema = Migration(
        version: 3,
        name: "live diversity",
        sql: """
        CREATE TABLE diversity_states (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            reducer text NOT NULL,
            -- Kept records folded into `state`.
            records bigint NOT NULL CHECK (records >= 0),
            -- The JSON encoding of a PersonaForgeCore.DiversityAccumulator.
            state text NOT NULL,
            state_bytes integer NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, reducer)
        );

        CREATE TABLE diversity_pending (
            run_id uuid NOT NULL,
            reducer text NOT NULL,
            -- Arrival order, so a reader folds pending records as the reducer did.
            seq bigint GENERATED ALWAYS AS IDENTITY,
            position bigint NOT NULL,
            sample integer NOT NULL,
            PRIMARY KEY (run_id, reducer, seq),
            FOREIGN KEY (run_id, position, sample) REFERENCES records (run_id, position, sample) ON DELETE CASCADE
        );
        CREATE INDEX metric_snapshots_run_live_idx ON metric_snapshots (run_id, is_final, taken_at DESC);
        """
    )
}
