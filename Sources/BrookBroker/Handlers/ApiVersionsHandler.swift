import BrookProtocol

/// ApiVersions: which APIs and versions this broker serves (taken from the router's table).
struct ApiVersionsHandler: RequestHandler {
    typealias Request = ApiVersionsRequest
    let versions: ClosedRange<Int16> = 0...4
    /// Every other API's entry; this handler adds its own.
    let otherApis: [ApiVersionsResponse.ApiVersion]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async throws -> ApiVersionsResponse? {
        if context.apiVersion >= 3,
           !Self.isValidSoftwareField(request.clientSoftwareName) || !Self.isValidSoftwareField(request.clientSoftwareVersion) {
            return ApiVersionsResponse(errorCode: ErrorCode.invalidRequest.rawValue, apiKeys: [], throttleTimeMs: 0)
        }
        var entries = otherApis
        entries.append(.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: versions.lowerBound, maxVersion: versions.upperBound))
        entries.sort { $0.apiKey < $1.apiKey }
        return ApiVersionsResponse(errorCode: ErrorCode.none.rawValue, apiKeys: entries, throttleTimeMs: 0)
    }

    /// Kafka's rule for client software names and versions: alphanumerics, '.' and '-', starting
    /// and ending with an alphanumeric.
    static func isValidSoftwareField(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}
