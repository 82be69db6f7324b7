/// A request that produced no HTTP response, classified so callers can decide to
/// retry (``Code/timeout``, ``Code/connectionFailed``) or give up (``Code/invalidRequest``,
/// ``Code/tls``).
///
/// A response with an error status (4xx, 5xx) is not an `HTTPError`: it is an
/// ``HTTPResponse`` whose status the caller inspects.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The URL or an option was rejected before anything was sent.
        case invalidRequest
        /// The host name does not resolve.
        case unresolvedHost
        /// Nothing accepts connections at the address (connection refused, unreachable).
        case connectionFailed
        /// The request did not complete within its timeout.
        case timeout
        /// TLS failed: handshake, or the certificate did not verify.
        case tls
        /// The connection broke while sending or receiving, or the reply was malformed.
        case transfer
        /// The calling task was cancelled.
        case cancelled
        /// The client was shut down.
        case shutdown
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "http: \(message)" }

    /// Whether trying again later can succeed.
    public var isRetryable: Bool {
        switch code {
        case .connectionFailed, .timeout, .transfer, .unresolvedHost: true
        case .invalidRequest, .tls, .cancelled, .shutdown: false
        }
    }
}
