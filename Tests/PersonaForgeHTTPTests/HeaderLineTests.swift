@testable import PersonaForgeHTTP
import Testing

/// How a transfer reads the header lines libcurl hands over, byte by byte.
@Suite struct HeaderLineTests {
    func headers(after lines: [String]) -> [String] {
        let transfer = CurlTransfer(request: HTTPRequest(method: "GET", url: "http://127.0.0.1:1/"), id: 1, maximumBodySize: 1 << 20)
        for line in lines {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBufferPointer { transfer.receivedHeaderLine(UnsafeBufferPointer($0)) }
        }
        return transfer.headers.map { "\($0.name)=\($0.value)" }
    }

    @Test func namesAndValuesAreTrimmedAndTheRestIsKept() {
        #expect(headers(after: ["HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n", "Retry-After:\t 7 \r\n",
                                "X-Empty:\r\n", "X-Inner: a: b  c\r\n", "  X-Lead: v\r\n", "X-Utf8: caf\u{E9}\r\n", "\r\n"])
                == ["Content-Type=application/json", "Retry-After=7", "X-Empty=", "X-Inner=a: b  c", "X-Lead=v", "X-Utf8=caf\u{E9}"])
    }

    @Test func aNewStatusLineStartsANewResponse() {
        // 100 Continue, then a redirect's own headers, then the final response.
        #expect(headers(after: ["HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 302 Found\r\n", "Location: /x\r\n", "\r\n",
                                "HTTP/2 200\r\n", "Server: s\r\n"]) == ["Server=s"])
    }

    @Test func linesWithoutAColonAreIgnored() {
        #expect(headers(after: ["HTTP/1.1 200 OK\r\n", "garbage line\r\n", "\n", "", "A:1\n"]) == ["A=1"])
    }
}
