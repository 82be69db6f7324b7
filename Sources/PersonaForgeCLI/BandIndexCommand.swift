import ArgumentParser
import Foundation
import Logging
import PersonaForgeBandIndex
import PersonaForgePostgres
import PersonaForgeStore

/// `personaforge band-index rebuild`: refills a scope's band index in Redis from
/// PostgreSQL after the index Redis lost data (docs/dedup.md).
struct BandIndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "band-index",
        abstract: "Maintain the band index that reducers keep in Redis (--band-index-url).",
        subcommands: [BandIndexRebuildCommand.self]
    )
}

struct BandIndexRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Refill one dedup scope's band index in Redis from the signatures in PostgreSQL.",
        discussion: """
            Run it when reducers log that the band index lost partitions. While it runs, reducers decide \
            none of the scope's records (their batches wait and are decided afterwards). Safe to run again \
            after an interruption. Scope ids: SELECT id, scope, band_store FROM dedup_scopes.
            """
    )

    @OptionGroup var connections: ConnectionOptions

    @Option(help: "The dedup scope to rebuild (dedup_scopes.id; the reducers' error names it).")
    var scopeID: Int

    @Option(help: ArgumentHelp("The index's Redis or Redis Cluster URL, as the reducers use it.", discussion: "Env: PERSONAFORGE_BAND_INDEX_URL."))
    var bandIndexURL: String?

    @Option(help: "Redis key namespace of the reducers (env: PERSONAFORGE_NAMESPACE).")
    var namespace: String = ProcessInfo.processInfo.environment["PERSONAFORGE_NAMESPACE"] ?? "pf"

    func run() async throws {
        var logger = Logger(label: "personaforge.band-index")
        logger.logLevel = .warning
        guard let index = try BandIndexOption.index(bandIndexURL, namespace: namespace) else {
            throw ValidationError("give the index's URL: --band-index-url redis://… or PERSONAFORGE_BAND_INDEX_URL")
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(to: connections.database.value, logger: logger)
        } catch let error as PostgresError {
            printToStandardError("error: \(error.message)")
            throw ExitCode(1)
        }
        do {
            let outcome = try await BandIndexRebuild.rebuild(scopeID: scopeID, index: index, connection: connection, progress: { records in
                if records % 100_000 < 5_000 { printToStandardError("  \(records) records re-indexed") }
            })
            print("rebuilt dedup scope \(scopeID) (\(outcome.scope)): \(outcome.records) records of \(outcome.runs) run(s), \(outcome.partitions) partitions")
        } catch let refusal as BandIndexRebuild.Refusal {
            printToStandardError("error: \(refusal.description)")
            await connection.close()
            throw ExitCode(1)
        }
        await connection.close()
    }
}
