import BrookClient
import BrookSecurity

/// kafka-configs' SCRAM configs of `--entity-type users`: `SCRAM-SHA-256=[iterations=8192,password=...]`
/// to add (iterations defaults to 4096), `--delete-config SCRAM-SHA-512` to remove, and the
/// describe line `SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192`.
enum UserScramConfigs {
    /// The alterations `added` and `deleted` make for `user`; throws ``CommandFailure`` for a key
    /// that is not a SCRAM mechanism or a value without a password.
    static func alterations(user: String, added: [(key: String, value: String)], deleted: [String]) throws -> [ScramAdmin.Alteration] {
        var alterations: [ScramAdmin.Alteration] = []
        for (key, value) in added {
            guard let mechanism = ScramMechanism(name: key) else { throw CommandFailure("Invalid SCRAM mechanism \(key)") }
            var fields: [String: String] = [:]
            for field in value.split(separator: ",", omittingEmptySubsequences: true) {
                let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw CommandFailure("Invalid \(key) value: \(field) is not key=value") }
                fields[parts[0].trimmingSpaces] = String(parts[1])
            }
            guard let password = fields["password"], !password.isEmpty else {
                throw CommandFailure("\(key) needs a password: \(key)=[iterations=4096,password=...]")
            }
            var iterations = ScramMechanism.minimumIterations
            if let text = fields["iterations"] {
                guard let parsed = Int32(text) else { throw CommandFailure("Invalid iterations for \(key): \(text)") }
                iterations = parsed
            }
            alterations.append(.upsert(user: user, mechanism: mechanism, password: password, iterations: iterations))
        }
        for key in deleted {
            guard let mechanism = ScramMechanism(name: key) else { throw CommandFailure("Invalid SCRAM mechanism \(key)") }
            alterations.append(.delete(user: user, mechanism: mechanism))
        }
        return alterations
    }

    /// kafka-configs' SCRAM lines for the users described.
    static func render(_ described: [String: [ScramMechanism: Int32]]) -> [String] {
        described.sorted { $0.key < $1.key }.map { user, mechanisms in
            let configs = mechanisms.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.name)=iterations=\($0.value)" }
            return "SCRAM credential configs for user-principal '\(user)' are \(configs.joined(separator: ", "))"
        }
    }
}
