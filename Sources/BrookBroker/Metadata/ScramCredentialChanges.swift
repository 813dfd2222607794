import BrookProtocol
import BrookSecurity
import NIOCore

/// AlterUserScramCredentials' checks and records, as KRaft's controller makes them: each user's
/// changes are all made or, if one of them is refused, none, and the answer says why per user.
enum ScramCredentialChanges {
    struct Outcome {
        var records: [MetadataRecord] = []
        /// Per user, in the order first named: nil when its changes are made.
        var errors: [(user: String, error: MetadataError?)] = []
    }

    static func plan(_ request: AlterUserScramCredentialsRequest, in image: MetadataImage) -> Outcome {
        var users: [String] = []
        var recordsByUser: [String: [MetadataRecord]] = [:]
        var errorByUser: [String: MetadataError] = [:]
        var seen = Set<String>()
        func refuse(_ user: String, _ code: ErrorCode, _ message: String) {
            if errorByUser[user] == nil { errorByUser[user] = MetadataError(code, message) }
        }
        func note(_ user: String, mechanism: Int8) -> ScramMechanism? {
            if !users.contains(user) { users.append(user) }
            if !seen.insert("\(mechanism)/\(user)").inserted {
                refuse(user, .duplicateResource, "A user credential cannot be altered twice in the same request")
            }
            if user.isEmpty { refuse(user, .unacceptableCredential, "Username must not be empty") }
            guard let mechanism = ScramMechanism(rawValue: mechanism) else {
                refuse(user, .unsupportedSaslMechanism, "Unknown SCRAM mechanism")
                return nil
            }
            return mechanism
        }
        for deletion in request.deletions {
            guard let mechanism = note(deletion.name, mechanism: deletion.mechanism) else { continue }
            guard image.scramCredentials[deletion.name]?[mechanism] != nil else {
                refuse(deletion.name, .resourceNotFound, "Attempt to delete a user credential that does not exist")
                continue
            }
            recordsByUser[deletion.name, default: []].append(
                .removeUserScramCredential(RemoveUserScramCredentialRecord(name: deletion.name, mechanism: mechanism.rawValue)))
        }
        for upsertion in request.upsertions {
            guard let mechanism = note(upsertion.name, mechanism: upsertion.mechanism) else { continue }
            if upsertion.iterations < ScramMechanism.minimumIterations {
                refuse(upsertion.name, .unacceptableCredential, "Too few iterations")
                continue
            }
            if upsertion.iterations > ScramMechanism.maximumIterations {
                refuse(upsertion.name, .unacceptableCredential, "Too many iterations")
                continue
            }
            let salt = Array(buffer: upsertion.salt), salted = Array(buffer: upsertion.saltedPassword)
            guard !salt.isEmpty, !salted.isEmpty else {
                refuse(upsertion.name, .unacceptableCredential, "The salt and the salted password must not be empty")
                continue
            }
            let credential = mechanism.credential(saltedPassword: salted, salt: salt, iterations: upsertion.iterations)
            recordsByUser[upsertion.name, default: []].append(
                .userScramCredential(UserScramCredentialRecord(user: upsertion.name, mechanism: mechanism, credential)))
        }
        var outcome = Outcome()
        for user in users {
            if let error = errorByUser[user] {
                outcome.errors.append((user, error))
            } else {
                outcome.records += recordsByUser[user] ?? []
                outcome.errors.append((user, nil))
            }
        }
        return outcome
    }
}

extension UserScramCredentialRecord {
    init(user: String, mechanism: ScramMechanism, _ credential: ScramCredential) {
        self.init(
            name: user, mechanism: mechanism.rawValue, salt: ByteBuffer(bytes: credential.salt),
            storedKey: ByteBuffer(bytes: credential.storedKey), serverKey: ByteBuffer(bytes: credential.serverKey),
            iterations: credential.iterations)
    }
}
