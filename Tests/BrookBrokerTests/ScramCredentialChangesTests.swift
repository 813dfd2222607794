@testable import BrookBroker
import BrookProtocol
import BrookSecurity
import NIOCore
import Testing

/// AlterUserScramCredentials' checks, as KRaft's controller makes them.
@Suite struct ScramCredentialChangesTests {
    static func upsertion(_ user: String, mechanism: Int8 = 1, iterations: Int32 = 4096) -> AlterUserScramCredentialsRequest.ScramCredentialUpsertion {
        .init(name: user, mechanism: mechanism, iterations: iterations, salt: ByteBuffer(bytes: [1, 2, 3]), saltedPassword: ByteBuffer(bytes: [4, 5, 6]))
    }

    @Test func eachUsersChangesAreMadeWhollyOrNotAtAll() {
        var image = MetadataImage(clusterId: "c", controllerId: 1, brokers: [])
        image.apply(.userScramCredential(UserScramCredentialRecord(user: "old", mechanism: .sha512, .init(salt: [1], storedKey: [2], serverKey: [3], iterations: 4096))))
        let request = AlterUserScramCredentialsRequest(
            deletions: [.init(name: "old", mechanism: 2), .init(name: "ghost", mechanism: 1), .init(name: "x", mechanism: 9)],
            upsertions: [
                Self.upsertion("alice"), Self.upsertion("alice", mechanism: 2, iterations: 16384),
                Self.upsertion("bob"), Self.upsertion("bob", iterations: 4096),
                Self.upsertion("carol", iterations: 4095), Self.upsertion("dave", iterations: 16385), Self.upsertion(""),
                Self.upsertion("erin"), Self.upsertion("ghost", mechanism: 2),
            ])
        let outcome = ScramCredentialChanges.plan(request, in: image)
        let errors = Dictionary(uniqueKeysWithValues: outcome.errors.map { ($0.user, $0.error?.code ?? ErrorCode.none) })
        #expect(errors == [
            "old": ErrorCode.none, "ghost": .resourceNotFound, "x": .unsupportedSaslMechanism, "alice": .none,
            "bob": .duplicateResource, "carol": .unacceptableCredential, "dave": .unacceptableCredential, "": .unacceptableCredential,
            "erin": .none,
        ])
        for record in outcome.records { image.apply(record) }
        #expect(image.scramCredentials.keys.sorted() == ["alice", "erin"])
        #expect(image.scramCredentials["alice"]?.mapValues(\.iterations) == [.sha256: 4096, .sha512: 16384])
        // The broker keeps only the derived keys, as SCRAM defines them from the salted password.
        #expect(image.scramCredentials["erin"]?[.sha256] == ScramMechanism.sha256.credential(saltedPassword: [4, 5, 6], salt: [1, 2, 3], iterations: 4096))
    }
}
