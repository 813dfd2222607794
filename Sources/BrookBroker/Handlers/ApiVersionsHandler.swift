import BrookProtocol

/// ApiVersions: which APIs and versions this broker serves (taken from the router's table).
struct ApiVersionsHandler: RequestHandler {
    typealias Request = ApiVersionsRequest
    let versions: ClosedRange<Int16> = 0...4
    /// Every other API's entry; this handler adds its own.
    let otherApis: [ApiVersionsResponse.ApiVersion]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async throws -> ApiVersionsResponse? {
        var entries = otherApis
        entries.append(.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound))
        entries.sort { $0.apiKey < $1.apiKey }
        return ApiVersionsResponse(errorCode: ErrorCode.none.rawValue, apiKeys: entries, throttleTimeMs: 0)
    }
}
