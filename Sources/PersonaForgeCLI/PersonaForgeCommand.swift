import ArgumentParser

@main
struct PersonaForgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personaforge",
        abstract: "Persona-conditioned synthetic data generation on a cluster.",
        subcommands: [
            VersionCommand.self, DoctorCommand.self, ChatCommand.self, MigrateCommand.self, PlanCommand.self,
            SubmitCommand.self, CoordinatorCommand.self, WorkerCommand.self, ReducerCommand.self, RunCommand.self,
            StatusCommand.self, RunsCommand.self, ExportCommand.self, EvaluateCommand.self, ReportCommand.self, DedupCommand.self, DedupShinglesCommand.self, MetricsCommand.self, BandIndexCommand.self,
        ]
    )
}
