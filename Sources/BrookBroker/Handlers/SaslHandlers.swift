import BrookProtocol
import Logging
import NIOCore

/// SaslHandshake: a client on a SASL listener names its mechanism. After v1 its tokens come in
/// SaslAuthenticate requests; after v0 (Kafka 0.10's clients) they come as raw size-prefixed
/// frames, which ``Connection`` reads and answers itself.
struct SaslHandshakeHandler: RequestHandler {
    typealias Request = SaslHandshakeRequest
    let versions: ClosedRange<Int16> = 0...1
    let logger: Logger

    func handle(_ request: SaslHandshakeRequest, context: RequestContext) async throws -> SaslHandshakeResponse? {
        guard let session = context.sasl else {
            return SaslHandshakeResponse(errorCode: ErrorCode.illegalSaslState.rawValue, mechanisms: [])
        }
        let mechanisms = session.authenticator.mechanisms
        // An authenticated connection may authenticate again (KIP-368), with the same mechanism.
        if case .authenticated = session.current, context.apiVersion >= 1 {
            guard session.beginReauthentication(mechanism: request.mechanism) else {
                session.move(to: .failed)
                return SaslHandshakeResponse(errorCode: ErrorCode.illegalSaslState.rawValue, mechanisms: mechanisms)
            }
            return SaslHandshakeResponse(errorCode: 0, mechanisms: mechanisms)
        }
        guard session.current == .handshake else {
            session.move(to: .failed)
            return SaslHandshakeResponse(errorCode: ErrorCode.illegalSaslState.rawValue, mechanisms: [])
        }
        guard mechanisms.contains(request.mechanism) else {
            session.move(to: .failed)
            logger.info("failed authentication with \(context.remoteAddress.map { "\($0)" } ?? "?") (unsupported SASL mechanism \(request.mechanism); enabled: \(mechanisms.joined(separator: ", ")))")
            return SaslHandshakeResponse(errorCode: ErrorCode.unsupportedSaslMechanism.rawValue, mechanisms: mechanisms)
        }
        session.move(to: .authenticate(mechanism: request.mechanism, raw: context.apiVersion == 0))
        return SaslHandshakeResponse(errorCode: 0, mechanisms: mechanisms)
    }
}

/// SaslAuthenticate: the client's tokens for the mechanism its handshake chose (one for PLAIN,
/// two for SCRAM, each answered with the server's). A refused token is answered with SASL_AUTHENTICATION_FAILED and the connection closes, as in Kafka.
struct SaslAuthenticateHandler: RequestHandler {
    typealias Request = SaslAuthenticateRequest
    let versions: ClosedRange<Int16> = 0...2
    let logger: Logger

    func handle(_ request: SaslAuthenticateRequest, context: RequestContext) async throws -> SaslAuthenticateResponse? {
        guard let session = context.sasl, case .authenticate(_, raw: false, _, _) = session.current else {
            context.sasl?.move(to: .failed)
            var response = SaslAuthenticateResponse(errorCode: ErrorCode.illegalSaslState.rawValue)
            response.errorMessage = "Unexpected SaslAuthenticate: the connection has not completed a SaslHandshake"
            return response
        }
        var token = request.authBytes
        switch session.authenticate(token.readBytes(length: token.readableBytes) ?? [], peer: context.remoteAddress.map { "\($0)" } ?? "?", logger: logger) {
        case .refused(let message):
            var response = SaslAuthenticateResponse(errorCode: ErrorCode.saslAuthenticationFailed.rawValue)
            response.errorMessage = message
            return response
        case .reply(let reply, let sessionLifetimeMs):
            return SaslAuthenticateResponse(
                errorCode: 0, errorMessage: nil, authBytes: ByteBuffer(bytes: reply),
                sessionLifetimeMs: context.apiVersion >= 1 ? sessionLifetimeMs : 0)
        }
    }
}
