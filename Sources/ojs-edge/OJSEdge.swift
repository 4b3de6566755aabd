import ArgumentParser

@main
struct OJSEdge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ojs-edge",
        abstract: "An Open Job Spec job server on SQLite, with WAL-shipping read replicas.",
        subcommands: [Serve.self, Replica.self, Node.self, Promote.self, Status.self, Simulate.self, MigrationsCommand.self],
        defaultSubcommand: Serve.self
    )
}
