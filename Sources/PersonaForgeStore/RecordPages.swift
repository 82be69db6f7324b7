public import PersonaForgePostgres

extension RunRepository {
    /// The record statuses a run can hold.
    public static let recordStatuses = ["kept", "filtered", "failed", "duplicate"]

    /// Calls `body` with a run's records whose status is one of `statuses`, in
    /// (position, sample) order, a page at a time (keyset paging: memory stays
    /// constant whatever the run size).
    /// - Parameter columns: the select list; `position` and `sample` are added for paging.
    public func forEachPage(
        of runID: String, statuses: [String], columns: String, pageSize: Int = 1000,
        _ body: ([PostgresRow]) throws -> Void
    ) async throws {
        let list = "{" + statuses.joined(separator: ",") + "}"
        var lastPosition = "-1"
        var lastSample = "-1"
        while true {
            let rows = try await connection.query("""
                SELECT \(columns), position AS page_position, sample AS page_sample FROM records
                WHERE run_id = $1::uuid AND status = ANY($2::text[]) AND (position, sample) > ($3::bigint, $4::int)
                ORDER BY position, sample LIMIT $5
                """, [runID, list, lastPosition, lastSample, String(pageSize)])
            if rows.isEmpty { return }
            try body(Array(rows))
            lastPosition = rows.last?["page_position"].string ?? lastPosition
            lastSample = rows.last?["page_sample"].string ?? lastSample
        }
    }
}
