internal import CCurl
import PersonaForgeSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libcurl wants curl_global_init once per process, before any other call.
/// (A global `let` is initialized exactly once, thread-safely, on first use.)
private let curlGlobalInitialization: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// The thread that drives every transfer of one ``HTTPClient`` through a libcurl
/// multi handle: many concurrent requests, one thread, no blocking of Swift's pool.
///
/// Other threads talk to it only through `inbox` (under its lock) and
/// `curl_multi_wakeup`, which libcurl documents as callable from any thread.
final class CurlMultiLoop: @unchecked Sendable {
    // @unchecked Sendable: `multi` is used by the loop thread, except
    // curl_multi_wakeup (thread-safe by libcurl's contract); `inbox` is a LockedBox;
    // `active` is touched by the loop thread only.
    struct Inbox {
        var submitted: [CurlTransfer] = []
        var cancelled: [UInt64] = []
        var cancelledBeforeStart: Set<UInt64> = []
        var shuttingDown = false
        var stopped = false
    }

    private let multi: UnsafeMutableRawPointer
    let inbox = LockedBox(Inbox())
    private var active: [UInt64: CurlTransfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: UInt64] = [:]
    private let verifyTLS: Bool
    private let userAgent: String

    init(configuration: HTTPClient.Configuration) {
        precondition(curlGlobalInitialization == CURLE_OK, "curl_global_init failed")
        multi = curl_multi_init()
        verifyTLS = configuration.verifyTLS
        userAgent = configuration.userAgent
        if configuration.maximumConnectionsPerHost > 0 {
            _ = pf_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maximumConnectionsPerHost)
        }
        _ = pf_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(configuration.maximumConnectionsPerHost, 64))
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    func start() {
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<CurlMultiLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, retained)
        precondition(result == 0, "pthread_create failed with \(result)")
        pthread_detach(thread)
    }

    /// Hands a transfer to the loop. Returns false if the client is shut down.
    func submit(_ transfer: CurlTransfer) -> Bool {
        let accepted = inbox.withLock { inbox in
            if inbox.shuttingDown { return false }
            inbox.submitted.append(transfer)
            return true
        }
        if accepted { curl_multi_wakeup(multi) }
        return accepted
    }

    func cancel(_ id: UInt64) {
        let stillRunning = inbox.withLock { inbox in
            if inbox.stopped { return false }
            inbox.cancelled.append(id)
            return true
        }
        if stillRunning { curl_multi_wakeup(multi) }
    }

    func shutdown() {
        let wasRunning = inbox.withLock { inbox in
            let was = !inbox.shuttingDown
            inbox.shuttingDown = true
            return was
        }
        if wasRunning { curl_multi_wakeup(multi) }
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let (submitted, cancelled, shuttingDown) = inbox.withLock { inbox in
                defer { inbox.submitted.removeAll(); inbox.cancelled.removeAll() }
                return (inbox.submitted, inbox.cancelled, inbox.shuttingDown)
            }
            for transfer in submitted { begin(transfer) }
            for id in cancelled { end(id, with: .failure(HTTPError(.cancelled, "request cancelled"))) }
            if shuttingDown {
                for id in Array(active.keys) {
                    end(id, with: .failure(HTTPError(.shutdown, "the HTTP client was shut down while the request was in flight")))
                }
                // Anything submitted between the snapshot and now fails the same way.
                let late = inbox.withLock { inbox in
                    inbox.stopped = true
                    defer { inbox.submitted.removeAll() }
                    return inbox.submitted
                }
                for transfer in late {
                    transfer.continuation?.resume(throwing: HTTPError(.shutdown, "the HTTP client was shut down"))
                    transfer.continuation = nil
                }
                return
            }

            _ = curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let id = byHandle[easy], let transfer = active[id] else { continue }
                end(id, with: transfer.finish(result: pf_curl_msg_result(message)))
            }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func begin(_ transfer: CurlTransfer) {
        if let error = transfer.prepare(verifyTLS: verifyTLS, userAgent: userAgent) {
            transfer.continuation?.resume(throwing: error)
            transfer.continuation = nil
            return
        }
        // A cancel that arrived before the transfer started wins.
        let cancelledEarly = inbox.withLock { $0.cancelledBeforeStart.remove(transfer.id) != nil }
        if cancelledEarly {
            transfer.continuation?.resume(throwing: HTTPError(.cancelled, "request cancelled"))
            transfer.continuation = nil
            return
        }
        guard let easy = transfer.easy, curl_multi_add_handle(multi, easy) == CURLM_OK else {
            transfer.continuation?.resume(throwing: HTTPError(.invalidRequest, "curl_multi_add_handle failed"))
            transfer.continuation = nil
            return
        }
        active[transfer.id] = transfer
        byHandle[easy] = transfer.id
    }

    private func end(_ id: UInt64, with result: Result<HTTPResponse, HTTPError>) {
        guard let transfer = active.removeValue(forKey: id) else {
            // Not started yet (still in the inbox, or before submit): remember the cancel.
            if case .failure(let error) = result, error.code == .cancelled {
                inbox.withLock { _ = $0.cancelledBeforeStart.insert(id) }
            }
            return
        }
        if let easy = transfer.easy {
            byHandle.removeValue(forKey: easy)
            curl_multi_remove_handle(multi, easy)
        }
        transfer.continuation?.resume(with: result.mapError { $0 as any Error })
        transfer.continuation = nil
    }
}
