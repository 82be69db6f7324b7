public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 12: what records cost, and runs that stop at a budget.
    ///
    /// - `records.cost`: the record's LLM calls at the endpoints' prices (NULL without prices);
    /// - `runs.cost`: their sum, kept in the same statement as the token totals;
    /// - `runs.budget_kept`, `budget_tokens`, `budget_cost`: the run's `budget:` rules;
    /// - `runs.stop_reason`: set by the coordinator when a rule is reached (`target_kept`,
    ///   `max_tokens`, `max_cost`); from then on no shard is queued, and the run completes
    ///   once the queued ones are stored.
    ///
    /// Adding nullable columns (and one with a constant default) rewrites no table.
    public static let runBudgetSchema = Migration(
        version: 12,
        name: "record cost and run budgets",
        sql: """
        ALTER TABLE records ADD COLUMN cost double precision;
        ALTER TABLE runs
            ADD COLUMN cost double precision NOT NULL DEFAULT 0,
            ADD COLUMN budget_kept bigint CHECK (budget_kept > 0),
            ADD COLUMN budget_tokens bigint CHECK (budget_tokens > 0),
            ADD COLUMN budget_cost double precision CHECK (budget_cost > 0),
            ADD COLUMN stop_reason text;
        """
    )
}
