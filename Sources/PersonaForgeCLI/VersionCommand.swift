import ArgumentParser
import PersonaForgeHTTP
import PersonaForgePostgres
import PersonaForgeRedis

/// The version of PersonaForge; bumped with each release.
let personaForgeVersion = "0.1.0"

/// `personaforge version`: this build and the C libraries it links.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of personaforge and of the C libraries it links."
    )

    @Flag(help: "Print only the version number.")
    var short = false

    func run() {
        if short {
            print(personaForgeVersion)
            return
        }
        print("personaforge \(personaForgeVersion)")
        print("  hiredis \(RedisConnection.libraryVersion)")
        print("  libpq   \(PostgresConnection.libraryVersion)")
        print("  \(HTTPClient.libraryVersion)")
    }
}
