import Foundation
import PersonaForgeCore
import PersonaForgePostgres
import PersonaForgeStore
import Testing

/// `RecordWriter` with its band rows in a shared index (the in-memory twin here; the
/// Redis one in PersonaForgeBandIndexTests and the pipeline tests) against the real
/// PostgreSQL that keeps the records and signatures: the same decisions as with the
/// band rows in `lsh_bands`.
@Suite("Near-duplicate decisions with a shared band index (RecordWriter)")
struct SharedBandIndexWriterTests {
    typealias T = NearDuplicateIndexTests

    @Test func theDecisionsEqualThoseOfTheIndexInPostgreSQL() async throws {
        try await T.withRuns(2) { _, connection, runs in
            let shared = InMemorySharedBandIndex()
            let writers = [RecordWriter(connection: connection), RecordWriter(connection: connection, bandIndex: shared)]
            let base = T.text("alpha"), other = T.text("beta")
            for (writer, run) in zip(writers, runs) {
                // Later records first, then the earlier ones, then a redelivery.
                _ = try await writer.write([T.batch(run: run, shard: 1, [
                    T.record(3, other), T.record(4, T.text("gamma")), T.record(5, T.nearCopy(of: base)),
                ])], dedup: [run: try T.plan(run)])
                _ = try await writer.write([T.batch(run: run, shard: 0, [
                    T.record(0, base), T.record(1, other), T.record(2, T.nearCopy(of: base)),
                ])], dedup: [run: try T.plan(run)])
                _ = try await writer.write([T.batch(run: run, shard: 1, [T.record(3, other)])], dedup: [run: try T.plan(run)])
            }
            let inPostgres = try await T.statuses(connection, run: runs[0]), inShared = try await T.statuses(connection, run: runs[1])
            #expect(inShared.count == 6)
            for position in 0..<6 { #expect(inShared[position]! == inPostgres[position]!, "position \(position)") }
            #expect(inShared[3]! == ("duplicate", 1))
            #expect(inShared[5]! == ("duplicate", 0))
            // The shared index holds the second run's band rows; lsh_bands only the first's.
            let bands = try T.plan(runs[1]).lsh.bands
            #expect(shared.entryCount == 6 * bands)
            #expect(try await T.count(connection, "SELECT count(*) AS n FROM lsh_bands") == 6 * bands)
            #expect(try await T.count(connection, "SELECT count(*) AS n FROM record_signatures") == 12)
            for run in runs {
                #expect(try await T.count(connection, "SELECT records_duplicate AS n FROM runs WHERE id = $1::uuid", [run]) == 3)
            }
        }
    }

    /// An index that forgets everything (a Redis restarted without persistence) is
    /// refused: the partitions earlier batches created are recorded in PostgreSQL,
    /// and the next batch touching one of them decides nothing and says why, so a
    /// near duplicate is never kept because the index forgot its original.
    @Test func anIndexThatLostItsPartitionsIsRefusedAndDecidesNothing() async throws {
        try await T.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let shared = InMemorySharedBandIndex(partitions: 4)
            let writer = RecordWriter(connection: connection, bandIndex: shared)
            let base = T.text("lambda")
            _ = try await writer.write([T.batch(run: run, shard: 0, [T.record(0, base), T.record(1, T.text("mu"))])], dedup: [run: try T.plan(run)])
            let recorded = try await T.count(connection, "SELECT count(*)::int AS n FROM band_index_partitions")
            #expect(recorded > 0 && recorded <= 4)
            shared.loseEverything()
            let error = try await #require(throws: BandIndexLostError.self) {
                try await writer.write([T.batch(run: run, shard: 1, [T.record(5, T.nearCopy(of: base))])], dedup: [run: try T.plan(run)])
            }
            #expect(!error.partitions.isEmpty)
            #expect(error.description.contains("lost writes"))
            // The record is stored (its first transaction committed) and still kept, not
            // wrongly decided: a redelivery after a rebuild decides it.
            #expect(try await T.statuses(connection, run: run)[5]! == ("kept", nil))
            #expect(shared.entryCount == 0)

            // The rebuild refills the index from record_signatures (3 records: 0, 1 and
            // the stored 5), marking the scope as rebuilding meanwhile; then the
            // redelivered batch decides 5 a duplicate of 0.
            let scopeID = try await T.count(connection, "SELECT id AS n FROM dedup_scopes")
            _ = try await connection.execute("UPDATE dedup_scopes SET band_index_rebuilding = true")
            let waiting = try await #require(throws: BandIndexLostError.self) {
                try await writer.write([T.batch(run: run, shard: 1, [T.record(5, T.nearCopy(of: base))])], dedup: [run: try T.plan(run)])
            }
            #expect(waiting.rebuilding)
            let outcome = try await BandIndexRebuild.rebuild(scopeID: scopeID, index: shared, connection: connection, pageSize: 2) { try T.plan($0) }
            #expect(outcome.records == 3)
            #expect(outcome.runs == 1)
            #expect(shared.entryCount == 3 * (try T.plan(run).lsh.bands))
            #expect(try await T.count(connection, "SELECT count(*)::int AS n FROM dedup_scopes WHERE band_index_rebuilding") == 0)
            _ = try await writer.write([T.batch(run: run, shard: 1, [T.record(5, T.nearCopy(of: base))])], dedup: [run: try T.plan(run)])
            #expect(try await T.statuses(connection, run: run)[5]! == ("duplicate", 0))
        }
    }

    @Test func concurrentWritersKeepExactlyOneOfTwoIdenticalTexts() async throws {
        try await T.withRuns(1) { schema, connection, runs in
            let run = runs[0]
            let plan = try T.plan(run)
            let shared = InMemorySharedBandIndex()
            for round in 0..<5 {
                let text = T.text("eta\(round)x")
                let a = try await schema.connect(), b = try await schema.connect()
                async let first = RecordWriter(connection: a, bandIndex: shared).write(
                    [T.batch(run: run, shard: 2 * round + 1, [T.record(2 * round + 1, text)])], dedup: [run: plan])
                async let second = RecordWriter(connection: b, bandIndex: shared).write(
                    [T.batch(run: run, shard: 2 * round, [T.record(2 * round, text)])], dedup: [run: plan])
                _ = try await (first, second)
                await a.close()
                await b.close()
                let statuses = try await T.statuses(connection, run: run)
                #expect(statuses[2 * round]! == ("kept", nil), "round \(round)")
                #expect(statuses[2 * round + 1]! == ("duplicate", 2 * round), "round \(round)")
            }
        }
    }

    @Test func aRecordStoredButNeverIndexedIsIndexedWhenItsBatchComesAgain() async throws {
        try await T.withRuns(1) { _, connection, runs in
            let run = runs[0]
            let base = T.text("theta")
            // A reducer that stored the batch and died before reaching the index: the
            // records and signatures are in PostgreSQL, the index never saw them.
            let failing = FailingIndex()
            await #expect(throws: FailingIndex.Down.self) {
                _ = try await RecordWriter(connection: connection, bandIndex: failing).write(
                    [T.batch(run: run, shard: 0, [T.record(0, base)])], dedup: [run: try T.plan(run)])
            }
            // Its records are stored but not decided: the shard is not done yet, so the
            // run cannot complete before its marks.
            #expect(try await T.count(connection, "SELECT count(*) AS n FROM run_shards") == 0)
            let shared = InMemorySharedBandIndex()
            let writer = RecordWriter(connection: connection, bandIndex: shared)
            // The redelivery inserts nothing but indexes the stored signature, and the shard is done once ...
            let again = try await writer.write([T.batch(run: run, shard: 0, [T.record(0, base)])], dedup: [run: try T.plan(run)])
            #expect(again.inserted == 0)
            #expect(again.shards == 1)
            #expect(try await T.count(connection, "SELECT shards_done AS n FROM runs") == 1)
            #expect(shared.entryCount == (try T.plan(run).lsh.bands))
            // ... so a later near copy finds it.
            _ = try await writer.write([T.batch(run: run, shard: 1, [T.record(1, T.nearCopy(of: base))])], dedup: [run: try T.plan(run)])
            #expect(try await T.statuses(connection, run: run)[1]! == ("duplicate", 0))
        }
    }

    @Test func aScopeIndexedInPostgreSQLRefusesAReducerWithASharedIndexAndTheOtherWayRound() async throws {
        try await T.withRuns(2) { _, connection, runs in
            _ = try await RecordWriter(connection: connection).write(
                [T.batch(run: runs[0], shard: 0, [T.record(0, T.text("iota"))])], dedup: [runs[0]: try T.plan(runs[0])])
            _ = try await RecordWriter(connection: connection, bandIndex: InMemorySharedBandIndex()).write(
                [T.batch(run: runs[1], shard: 0, [T.record(0, T.text("iota"))])], dedup: [runs[1]: try T.plan(runs[1])])
            do {
                _ = try await RecordWriter(connection: connection, bandIndex: InMemorySharedBandIndex()).write(
                    [T.batch(run: runs[0], shard: 1, [T.record(1, T.text("kappa"))])], dedup: [runs[0]: try T.plan(runs[0])])
                Issue.record("a shared-index writer decided a scope indexed in PostgreSQL")
            } catch {
                #expect("\(error)".contains("keeps its band index in postgres"), "\(error)")
            }
            do {
                _ = try await RecordWriter(connection: connection).write(
                    [T.batch(run: runs[1], shard: 1, [T.record(1, T.text("kappa"))])], dedup: [runs[1]: try T.plan(runs[1])])
                Issue.record("a PostgreSQL-index writer decided a scope indexed in a shared index")
            } catch {
                #expect("\(error)".contains("keeps its band index in redis"), "\(error)")
            }
            // Nothing of the refused writes was stored.
            for run in runs {
                #expect(try await T.count(connection, "SELECT count(*) AS n FROM records WHERE run_id = $1::uuid", [run]) == 1)
            }
        }
    }
}

/// A shared index that is down.
struct FailingIndex: SharedBandIndex {
    struct Down: Error {}
    func addAndProbe(scopeID: Int, _ entries: [BandEntry], expected: Set<Int>) async throws -> BandProbe { throw Down() }
}
