internal import CCurl
import PersonaForgeSupport

/// One request in flight: the easy handle, the buffers libcurl writes into, and the
/// continuation to resume when it ends.
///
/// Created on the caller's task, then owned by the loop thread from the moment it is
/// handed over; only ``cancelRequested`` is shared, guarded by the loop's lock.
final class CurlTransfer: @unchecked Sendable {
    // @unchecked Sendable: after submission every field is touched only by the
    // CurlMultiLoop thread (callbacks run inside curl_multi_perform on that thread).
    let request: HTTPRequest
    let id: UInt64
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let maximumBodySize: Int
    var bodyTooLarge = false

    init(request: HTTPRequest, id: UInt64, maximumBodySize: Int) {
        self.request = request
        self.id = id
        self.maximumBodySize = maximumBodySize
    }

    deinit {
        if let easy { curl_easy_cleanup(easy) }
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// Creates and configures the easy handle. Returns an error instead of throwing so
    /// the loop can resume the continuation with it.
    func prepare(verifyTLS: Bool, userAgent: String) -> HTTPError? {
        guard let easy = curl_easy_init() else {
            return HTTPError(.invalidRequest, "curl_easy_init failed")
        }
        self.easy = easy
        var failed: CURLcode = CURLE_OK
        func check(_ code: CURLcode) { if code != CURLE_OK && failed == CURLE_OK { failed = code } }

        check(pf_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        check(pf_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check(pf_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)))
        check(pf_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)))
        check(pf_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, verifyTLS ? 1 : 0))
        check(pf_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, verifyTLS ? 2 : 0))
        check(pf_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, userAgent))
        check(pf_curl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""))  // any encoding curl decodes
        check(pf_curl_easy_setopt_long(easy, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)))
        check(pf_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, &errorBuffer))

        let method = request.method.uppercased()
        if let body = request.body {
            // Size first, so COPYPOSTFIELDS copies exactly that many bytes (NULs included).
            check(pf_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            check(body.withUnsafeBufferPointer { buffer in
                pf_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            })
            if method != "POST" { check(pf_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)) }
        } else if method == "HEAD" {
            check(pf_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if method != "GET" {
            check(pf_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
        }

        // "Expect: 100-continue" costs a round trip on every large POST; LLM servers don't need it.
        var lines = request.headers.map { "\($0.name): \($0.value)" }
        if !request.headers.contains(where: { $0.name.lowercased() == "expect" }) { lines.append("Expect:") }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else {
                return HTTPError(.invalidRequest, "cannot allocate header list")
            }
            headerList = appended
        }
        check(pf_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))

        let context = Unmanaged.passUnretained(self).toOpaque()
        check(pf_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, { pointer, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if transfer.body.count + length > transfer.maximumBodySize {
                transfer.bodyTooLarge = true
                return 0  // aborts the transfer with CURLE_WRITE_ERROR
            }
            pointer!.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }))
        check(pf_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        check(pf_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, { pointer, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            pointer!.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.receivedHeaderLine(UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }))
        check(pf_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))

        if failed != CURLE_OK {
            return HTTPError(.invalidRequest, "cannot configure request to \(redactedURL): \(String(cString: curl_easy_strerror(failed)))")
        }
        return nil
    }

    /// One header line as libcurl hands it over (with its CRLF): the status line of a
    /// new response clears the headers (after a redirect or 100 Continue); `name:
    /// value` lines are kept, the line trimmed of spaces, tabs, CR and LF at both ends
    /// and the value of spaces and tabs. Works on the bytes: it runs for every header
    /// of every LLM response.
    func receivedHeaderLine(_ line: UnsafeBufferPointer<UInt8>) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = 0, end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let prefix: [UInt8] = [0x48, 0x54, 0x54, 0x50, 0x2F]  // "HTTP/"
        if end - start >= prefix.count, (0..<prefix.count).allSatisfy({ line[start + $0] == prefix[$0] }) {
            headers.removeAll()
            return
        }
        guard let colon = (start..<end).first(where: { line[$0] == 0x3A }) else { return }
        var valueStart = colon + 1
        while valueStart < end, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[start..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<end]), as: UTF8.self)
        headers.append((name, value))
    }

    /// The response, or the classified error, once libcurl reports the transfer done.
    func finish(result: CURLcode) -> Result<HTTPResponse, HTTPError> {
        guard let easy else { return .failure(HTTPError(.invalidRequest, "transfer was never started")) }
        if result != CURLE_OK {
            return .failure(classify(result))
        }
        var status = 0
        _ = pf_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var seconds = 0.0
        _ = pf_curl_easy_getinfo_double(easy, CURLINFO_TOTAL_TIME, &seconds)
        return .success(HTTPResponse(status: status, headers: headers, body: body, totalTime: .milliseconds(Int64(seconds * 1000))))
    }

    private func classify(_ result: CURLcode) -> HTTPError {
        let detail = errorBuffer.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { String(cString: $0) } ?? ""
        }
        let reason = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        let target = "\(request.method.uppercased()) \(redactedURL)"
        switch result {
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPError(.timeout, "\(target) timed out after \(request.timeout): \(reason)")
        case CURLE_COULDNT_CONNECT:
            return HTTPError(.connectionFailed, "\(target): cannot connect: \(reason)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return HTTPError(.unresolvedHost, "\(target): host not found: \(reason)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return HTTPError(.tls, "\(target): TLS failed: \(reason)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPError(.invalidRequest, "\(target): invalid URL: \(reason)")
        case CURLE_WRITE_ERROR where bodyTooLarge:
            return HTTPError(.transfer, "\(target): response body larger than \(maximumBodySize) bytes")
        default:
            return HTTPError(.transfer, "\(target): \(reason)")
        }
    }

    /// The URL without user info (which may hold credentials).
    var redactedURL: String {
        guard let schemeEnd = request.url.firstRange(of: "://")?.upperBound,
              let at = request.url[schemeEnd...].firstIndex(of: "@"),
              !request.url[schemeEnd..<at].contains("/") else {
            return request.url
        }
        return String(request.url[..<schemeEnd]) + "***" + String(request.url[at...])
    }
}

private func milliseconds(_ duration: Duration) -> Int {
    max(1, Int(duration.wholeMilliseconds))
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
