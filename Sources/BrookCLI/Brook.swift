import ArgumentParser

/// The `brook` command: the broker and the operator's tools, one binary.
@main
struct Brook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brook",
        abstract: "Brook: a Kafka-compatible streaming platform in one native binary.",
        version: BrookVersion.current,
        subcommands: [ServerCommand.self, GroupsCommand.self, PerfCommand.self, VersionCommand.self]
    )

    static func main() async {
        FileDescriptorLimit.raiseToMaximum()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The release this binary is.
enum BrookVersion {
    static let current = "0.1.0-dev"
}

/// `brook version`: prints the version.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Brook's version.")

    func run() {
        print("brook \(BrookVersion.current)")
    }
}
