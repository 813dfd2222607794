import ArgumentParser
import Foundation

/// The `brook` command: the broker and the operator's tools, one binary.
@main
struct Brook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brook",
        abstract: "Brook: a Kafka-compatible streaming platform in one native binary.",
        version: BrookVersion.current,
        subcommands: [
            ServerCommand.self, ProduceCommand.self, ConsumeCommand.self, TopicsCommand.self, ConfigsCommand.self,
            GroupsCommand.self, ClusterCommand.self, ReassignPartitionsCommand.self, DeleteRecordsCommand.self, DumpLogCommand.self, PerfCommand.self,
            VersionCommand.self, MetadataQuorumCommand.self, StorageCommand.self, AclsCommand.self,
        ]
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
            // Help and version go through the parser's own exit; a failure prints one line.
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let message = self.message(for: error)
            if !message.isEmpty {
                FileHandle.standardError.write(Data(((message.hasPrefix("Error:") ? "" : "Error: ") + message + "\n").utf8))
            }
            exit(withError: ExitCode(exitCode(for: error).rawValue == 0 ? 1 : exitCode(for: error).rawValue))
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
