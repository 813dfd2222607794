import ArgumentParser
import BrookClient
import BrookProtocol

/// `brook acls`: add, remove and list ACLs with kafka-acls' flags and output.
struct AclsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acls",
        abstract: "Add, remove and list ACLs (kafka-acls).",
        subcommands: [AddAcls.self, RemoveAcls.self, ListAcls.self]
    )
}

extension AclsCommand {
    /// `brook acls add`: creates the ACLs the flags name, then lists each resource's ACLs.
    struct AddAcls: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add ACLs.")

        @OptionGroup var connection: AdminOptions
        @OptionGroup var resource: AclResourceOptions

        func run() async throws {
            let bindings = try resource.bindings()
            let lines = try await connection.withCluster { cluster in
                let admin = AclAdmin(cluster: cluster)
                try await admin.create(bindings)
                var lines = AclRendering.grouped(bindings, heading: "Adding ACLs for resource")
                var seen = Set<String>()
                for binding in bindings where seen.insert("\(binding.resourceType)/\(binding.resourceName)/\(binding.patternType)").inserted {
                    let current = try await admin.describe(.init(
                        resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType))
                    lines += AclRendering.grouped(current, heading: "Current ACLs for resource")
                }
                return lines
            }
            lines.forEach { print($0) }
        }
    }

    /// `brook acls remove`: deletes the ACLs the flags name. With principals, exactly those
    /// entries; without, every ACL of the named resources (kafka-acls asks first unless
    /// `--force`; brook never asks).
    struct RemoveAcls: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove ACLs.")

        @OptionGroup var connection: AdminOptions
        @OptionGroup var resource: AclResourceOptions
        @Flag(name: .customLong("force"), help: "Accepted for kafka-acls' compatibility: brook does not ask.") var force = false

        func run() async throws {
            let filters: [AclAdmin.Filter]
            if resource.allowPrincipals.isEmpty && resource.denyPrincipals.isEmpty {
                let pattern = try resource.patternType(adding: false)
                let named = resource.resources(pattern)
                guard !named.isEmpty else {
                    throw CommandFailure("You must specify one of: --topic, --cluster, --group, --transactional-id, --delegation-token or --user-principal")
                }
                filters = named.map { .init(resourceType: $0.0, resourceName: $0.1, patternType: $0.0 == .cluster ? .literal : pattern) }
            } else {
                filters = try resource.bindings().map(AclAdmin.Filter.init(exactly:))
            }
            let removed = try await connection.withCluster { cluster in try await AclAdmin(cluster: cluster).delete(filters) }
            AclRendering.grouped(removed.flatMap { $0 }, heading: "Removed ACLs for resource").forEach { print($0) }
        }
    }

    /// `brook acls list`: the ACLs of the named resources (all, without one), optionally only
    /// those of `--principal`.
    struct ListAcls: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List ACLs.")

        @OptionGroup var connection: AdminOptions
        @OptionGroup var resource: AclResourceOptions
        @Option(name: .customLong("principal"), help: "List only this principal's ACLs (repeatable).") var principals: [String] = []

        func run() async throws {
            let pattern: AclPatternType = resource.resourcePatternType == "literal" && resource.resources(.literal).isEmpty
                ? .any : try resource.patternType(adding: false)
            let named = resource.resources(pattern)
            let resourceFilters: [AclAdmin.Filter] = named.isEmpty
                ? [.init()]
                : named.map { .init(resourceType: $0.0, resourceName: $0.1, patternType: $0.0 == .cluster ? .literal : pattern) }
            let filters = principals.isEmpty
                ? resourceFilters
                : resourceFilters.flatMap { filter in principals.map { var f = filter; f.principal = $0; return f } }
            let found = try await connection.withCluster { cluster in
                let admin = AclAdmin(cluster: cluster)
                var found: [AclAdmin.Binding] = []
                for filter in filters {
                    for binding in try await admin.describe(filter) where !found.contains(binding) { found.append(binding) }
                }
                return found
            }
            AclRendering.grouped(found, heading: "Current ACLs for resource").forEach { print($0) }
        }
    }
}
