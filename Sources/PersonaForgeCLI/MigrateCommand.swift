import ArgumentParser
import Logging
import PersonaForgePostgres
import PersonaForgeStore

/// `personaforge migrate`: applies PersonaForge's pending schema migrations.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending PostgreSQL schema migrations (safe to run any number of times).",
        discussion: "Each migration runs in its own transaction under an advisory lock, so concurrent runs are safe."
    )

    @OptionGroup var connections: ConnectionOptions

    @Flag(help: "Only list applied and pending migrations.")
    var status = false

    func run() async throws {
        let logger = Logger(label: "personaforge.migrate")
        let url = connections.database.value
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(to: url, logger: logger)
        } catch let error as PostgresError {
            printToStandardError("error: \(error.message)")
            if let fix = DoctorCommand.postgresFix(error) { printToStandardError("  → \(fix)") }
            throw ExitCode(1)
        }
        let migrator = try Migrator(migrations: PersonaForgeSchema.migrations, logger: logger)
        if status {
            let applied = try await migrator.appliedMigrations(connection)
            let done = Set(applied.map(\.version))
            for migration in PersonaForgeSchema.migrations {
                let line = String(format: "%4d  %@", migration.version, migration.name)
                print(done.contains(migration.version) ? "applied  \(line)" : "pending  \(line)")
            }
            return
        }
        let newlyApplied = try await migrator.migrate(connection)
        if newlyApplied.isEmpty {
            print("schema up to date (\(PersonaForgeSchema.migrations.count) migration\(PersonaForgeSchema.migrations.count == 1 ? "" : "s"))")
        } else {
            for migration in newlyApplied { print("applied \(migration.version) \(migration.name)") }
        }
        await connection.close()
    }
}
