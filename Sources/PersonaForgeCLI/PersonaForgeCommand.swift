import ArgumentParser

@main
struct PersonaForgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personaforge",
        abstract: "Persona-conditioned synthetic data generation on a cluster.",
        subcommands: [PlanCommand.self, MetricsCommand.self]
    )
}
