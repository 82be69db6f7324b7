public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 4: why records of an axis value were filtered or failed.
    ///
    /// `axis_coverage` counts filtered and failed records per axis value; this table
    /// splits those counts by reject reason (e.g. `finish_length`, `refusal`), so a
    /// user sees *why* a persona or topic yields little. The reducer updates it in
    /// the same transaction as the records, from the rows really inserted, like
    /// `axis_coverage`. Runs stored before this version are backfilled here.
    public static let axisRejectReasonSchema = Migration(
        version: 4,
        name: "reject reasons per axis value",
        sql: """
        CREATE TABLE axis_reject_reasons (
            run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            axis text NOT NULL,
            value_index bigint NOT NULL CHECK (value_index >= 0),
            status text NOT NULL CHECK (status IN ('filtered', 'failed')),
            reason text NOT NULL,
            records bigint NOT NULL CHECK (records >= 0),
            PRIMARY KEY (run_id, axis, value_index, status, reason)
        );

        INSERT INTO axis_reject_reasons (run_id, axis, value_index, status, reason, records)
        SELECT run_id, c->>'axis', (c->>'index')::bigint, status, coalesce(reject_reason, 'unknown'), count(*)
        FROM records, jsonb_array_elements(condition) AS c
        WHERE status IN ('filtered', 'failed')
        GROUP BY 1, 2, 3, 4, 5;
        """
    )
}
