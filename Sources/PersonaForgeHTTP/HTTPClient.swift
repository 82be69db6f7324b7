public import Logging
import PersonaForgeSupport

/// An HTTP client over the libcurl multi interface.
///
/// One client owns one loop thread that runs all of its transfers concurrently, so a
/// thousand requests in flight cost a thousand sockets, not a thousand threads, and
/// never a thread of Swift's shared pool. Requests honour their timeout and the
/// calling task's cancellation. TLS peers are verified unless the configuration says
/// otherwise.
///
/// Call ``shutdown()`` when done (in-flight requests then fail with
/// ``HTTPError/Code/shutdown``); the client also shuts down when released.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Verify TLS certificates and host names (on by default; turn off only for tests).
        public var verifyTLS: Bool
        /// Parallel connections to one host; 0 means unlimited. Requests beyond it queue.
        public var maximumConnectionsPerHost: Int
        /// Responses larger than this fail instead of exhausting memory.
        public var maximumBodySize: Int
        public var userAgent: String

        public init(
            verifyTLS: Bool = true,
            maximumConnectionsPerHost: Int = 0,
            maximumBodySize: Int = 64 << 20,
            userAgent: String = "personaforge"
        ) {
            self.verifyTLS = verifyTLS
            self.maximumConnectionsPerHost = maximumConnectionsPerHost
            self.maximumBodySize = maximumBodySize
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    private let loop: CurlMultiLoop
    private let nextID = LockedBox<UInt64>(0)
    private let logger: Logger

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "personaforge.http")) {
        self.configuration = configuration
        self.logger = logger
        loop = CurlMultiLoop(configuration: configuration)
        loop.start()
    }

    deinit {
        loop.shutdown()
    }

    /// Sends the request and waits for the complete response.
    ///
    /// - Throws: ``HTTPError`` when no response arrived (timeout, refused, TLS,
    ///   cancelled). An error *status* is returned as a response, not thrown.
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let transfer = CurlTransfer(request: request, id: id, maximumBodySize: configuration.maximumBodySize)
        let loop = self.loop
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                    transfer.continuation = continuation
                    if !loop.submit(transfer) {
                        transfer.continuation = nil
                        continuation.resume(throwing: HTTPError(.shutdown, "the HTTP client was shut down"))
                    }
                }
            } onCancel: {
                loop.cancel(id)
            }
        } catch let error as HTTPError {
            if error.code != .cancelled {
                logger.debug("HTTP request failed", metadata: ["error": "\(error.message)"])
            }
            throw error
        } catch {
            throw HTTPError(.transfer, "\(error)")
        }
    }

    /// Fails in-flight requests with ``HTTPError/Code/shutdown`` and stops the loop thread.
    public func shutdown() {
        loop.shutdown()
    }
}
