import BrookProtocol
import BrookSecurity

/// AlterUserScramCredentials: adds, replaces and deletes users' SCRAM credentials. The client
/// salts and hashes the password; the broker stores only the keys derived from it.
struct AlterUserScramCredentialsHandler: RequestHandler {
    typealias Request = AlterUserScramCredentialsRequest
    let versions: ClosedRange<Int16> = 0...0
    let metadata: MetadataStore

    func handle(_ request: AlterUserScramCredentialsRequest, context: RequestContext) async throws -> AlterUserScramCredentialsResponse? {
        // With ACLs, ALTER on the cluster.
        guard context.authorizedOnCluster(.alter) else {
            return AlterUserScramCredentialsResponse(results: Self.users(in: request).map {
                .init(user: $0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
            })
        }
        var outcome = ScramCredentialChanges.Outcome()
        do {
            try metadata.commitComputed { image throws(MetadataError) in
                outcome = ScramCredentialChanges.plan(request, in: image)
                return outcome.records
            }
        } catch {
            // Not committed (no active controller, a failed write): every user named is told.
            return AlterUserScramCredentialsResponse(results: Self.users(in: request).map {
                .init(user: $0, errorCode: error.code.rawValue, errorMessage: error.message)
            })
        }
        return AlterUserScramCredentialsResponse(results: outcome.errors.map {
            .init(user: $0.user, errorCode: $0.error?.code.rawValue ?? 0, errorMessage: $0.error?.message)
        })
    }
}

extension AlterUserScramCredentialsHandler {
    /// The users a request names, each once, in the order first named.
    static func users(in request: AlterUserScramCredentialsRequest) -> [String] {
        var users: [String] = []
        for name in request.deletions.map(\.name) + request.upsertions.map(\.name) where !users.contains(name) { users.append(name) }
        return users
    }
}

/// DescribeUserScramCredentials: which mechanisms (and iteration counts) each user has a
/// credential for; every user with one when none is named.
struct DescribeUserScramCredentialsHandler: RequestHandler {
    typealias Request = DescribeUserScramCredentialsRequest
    let versions: ClosedRange<Int16> = 0...0
    let metadata: MetadataStore

    func handle(_ request: DescribeUserScramCredentialsRequest, context: RequestContext) async throws -> DescribeUserScramCredentialsResponse? {
        guard context.authorizedOnCluster(.describe) else {
            return DescribeUserScramCredentialsResponse(
                errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        let credentials = metadata.image.scramCredentials
        let asked = request.users.map { $0.map(\.name) } ?? []
        let names = asked.isEmpty ? credentials.keys.sorted() : asked
        var counts: [String: Int] = [:]
        for name in asked { counts[name, default: 0] += 1 }
        var reported = Set<String>()
        var response = DescribeUserScramCredentialsResponse(errorCode: 0, errorMessage: nil)
        for name in names where reported.insert(name).inserted {
            var result = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult(user: name, errorCode: 0, errorMessage: nil)
            if counts[name, default: 0] > 1 {
                result.errorCode = ErrorCode.duplicateResource.rawValue
                result.errorMessage = "Cannot describe SCRAM credentials for the same user twice in a single request: \(name)"
            } else if let mechanisms = credentials[name], !mechanisms.isEmpty {
                result.credentialInfos = mechanisms.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                    .init(mechanism: $0.key.rawValue, iterations: $0.value.iterations)
                }
            } else {
                result.errorCode = ErrorCode.resourceNotFound.rawValue
                result.errorMessage = "Attempt to describe a user credential that does not exist: \(name)"
            }
            response.results.append(result)
        }
        return response
    }
}
