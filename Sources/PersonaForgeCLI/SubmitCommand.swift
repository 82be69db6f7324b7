import ArgumentParser
import Logging
import PersonaForgeQueue
import PersonaForgeStore

/// `personaforge submit RUN.yaml`: validates and stores a run; the coordinator picks it up.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Validate a run config, store it in PostgreSQL and queue it; prints the run id.",
        discussion: """
            The config and every file it references are stored with the run, so workers \
            on other machines need none of your files. Submitting the same config (and \
            files) again is refused with the existing run id unless --new is given.
            Exit status: 0 submitted, 2 invalid config, 3 already submitted.
            """
    )

    @OptionGroup var connections: ConnectionOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "The run config (YAML).")
    var config: String

    @Flag(help: "Submit even if the same config was submitted before.")
    var new = false

    @Option(help: "A name for the run (default: the config's name).")
    var name: String?

    func run() async throws {
        let logger = service.logger("personaforge.submit")
        let submission = RunSubmission(configPath: config, name: name, allowDuplicate: new)
        // An invalid config exits 2 here, before any connection: nothing is written.
        let validated = try submission.validate()
        let database = try await connections.openDatabase(logger: logger)
        let redis = try await connections.openRedis(logger: logger)
        let outcome = try await submission.submit(validated, runs: RunRepository(connection: database), control: RunControl(redis: redis, layout: service.layout))
        switch outcome {
        case .created(let run):
            printToStandardError("submitted \(run.name): \(run.sampleCount) samples in \(run.shardCount) shards of \(run.shardSize)")
            print(run.id)
        case .existing(let run):
            printToStandardError("already submitted as run \(run.id) (\(run.state.rawValue)); use --new to run it again")
            print(run.id)
            throw ExitCode(3)
        }
    }
}
