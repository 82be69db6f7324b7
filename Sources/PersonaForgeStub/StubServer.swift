#if canImport(Glibc)
import Glibc
#endif

/// The poll(2) loop of `personaforge-stub`: non-blocking sockets, one thread,
/// pipelined keep-alive requests answered in order. (Glibc's Swift module does not
/// export epoll; with the few hundred keep-alive connections of a benchmark, poll is
/// not the bound.)
final class StubServer {
    let port: Int
    private let listener: Int32
    private var connections: [Connection?] = []
    private var text: StubText
    private var served = 0

    private final class Connection {
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        var wantsWrite = false
    }

    init(options: StubOptions) throws {
        text = StubText(options: options)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.listener = listener
        guard listener >= 0 else { throw StubError("socket") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(options.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw StubError("bind 127.0.0.1:\(options.port)") }
        guard listen(listener, 1024) == 0 else { throw StubError("listen") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
    }

    func run() -> Never {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var descriptors: [pollfd] = []
        while true {
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            for (descriptor, connection) in connections.enumerated() {
                guard let connection else { continue }
                let events = connection.wantsWrite ? Int16(POLLIN) | Int16(POLLOUT) : Int16(POLLIN)
                descriptors.append(pollfd(fd: Int32(descriptor), events: events, revents: 0))
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                StubMain.fail("poll: \(String(cString: strerror(errno)))")
            }
            for entry in descriptors where entry.revents != 0 {
                if entry.fd == listener {
                    acceptAll()
                    continue
                }
                let flags = entry.revents
                if flags & Int16(POLLNVAL) != 0 || (flags & Int16(POLLERR | POLLHUP) != 0 && flags & Int16(POLLIN) == 0) {
                    close(descriptor: entry.fd)
                    continue
                }
                if flags & Int16(POLLIN) != 0 { readAll(entry.fd, buffer: &buffer) }
                if flags & Int16(POLLOUT) != 0 { flush(entry.fd) }
            }
        }
    }

    private func acceptAll() {
        while true {
            let descriptor = accept(listener, nil, nil)
            if descriptor < 0 { return }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var yes: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            if Int(descriptor) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: Int(descriptor) + 64 - connections.count))
            }
            connections[Int(descriptor)] = Connection()
        }
    }

    private func close(descriptor: Int32) {
        guard connections[Int(descriptor)] != nil else { return }
        connections[Int(descriptor)] = nil
        _ = Glibc.close(descriptor)
    }

    private func readAll(_ descriptor: Int32, buffer: inout [UInt8]) {
        guard let connection = connections[Int(descriptor)] else { return }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                connection.input.append(contentsOf: buffer[0..<count])
                if count < buffer.count { break }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) {
                close(descriptor: descriptor)
                return
            }
            if errno == EAGAIN { break }
        }
        answerComplete(connection)
        flush(descriptor)
    }

    /// Answers every complete request in the connection's input, in order.
    private func answerComplete(_ connection: Connection) {
        var start = 0
        let input = connection.input
        while let request = HTTPRequestHead.parse(input, from: start) {
            let bodyEnd = request.bodyStart + request.contentLength
            guard bodyEnd <= input.count else { break }
            served += 1
            respond(to: request, body: input[request.bodyStart..<bodyEnd], into: &connection.output)
            start = bodyEnd
        }
        if start > 0 { connection.input.removeFirst(start) }
    }

    private func respond(to request: HTTPRequestHead, body: ArraySlice<UInt8>, into output: inout [UInt8]) {
        let path = request.path
        if request.isPost && path.hasSuffix("/chat/completions") {
            write(status: "200 OK", body: text.completion(for: body, chat: true), into: &output)
        } else if request.isPost && path.hasSuffix("/completions") {
            write(status: "200 OK", body: text.completion(for: body, chat: false), into: &output)
        } else if path == "/health" {
            write(status: "200 OK", body: Array(#"{"status":"ok"}"#.utf8), into: &output)
        } else if path.hasSuffix("/models") {
            write(status: "200 OK", body: Array(#"{"object":"list","data":[{"id":"stub","object":"model"}]}"#.utf8), into: &output)
        } else if path == "/stats" {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            write(status: "200 OK", body: Array(#"{"requests":\#(served),"cpu_seconds":\#(cpu)}"#.utf8), into: &output)
        } else {
            write(status: "404 Not Found", body: Array(#"{"error":{"message":"no such route"}}"#.utf8), into: &output)
        }
    }

    private func write(status: String, body: [UInt8], into output: inout [UInt8]) {
        output.append(contentsOf: "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        output.append(contentsOf: body)
    }

    private func flush(_ descriptor: Int32) {
        guard let connection = connections[Int(descriptor)] else { return }
        while connection.written < connection.output.count {
            let count = connection.output.withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress! + connection.written, $0.count - connection.written)
            }
            if count > 0 { connection.written += count; continue }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                connection.wantsWrite = true
                return
            }
            close(descriptor: descriptor)
            return
        }
        connection.output.removeAll(keepingCapacity: true)
        connection.written = 0
        connection.wantsWrite = false
    }
}

/// The request line and the one header the stub needs.
struct HTTPRequestHead {
    var isPost: Bool
    var path: String
    var contentLength: Int
    var bodyStart: Int

    static func parse(_ bytes: [UInt8], from start: Int) -> HTTPRequestHead? {
        // Find the end of the head.
        var end = start
        var found = false
        while end + 3 < bytes.count {
            if bytes[end] == 13 && bytes[end + 1] == 10 && bytes[end + 2] == 13 && bytes[end + 3] == 10 {
                found = true
                break
            }
            end += 1
        }
        guard found else { return nil }
        var cursor = start
        while cursor < end && bytes[cursor] != 32 { cursor += 1 }
        let isPost = cursor - start == 4 && bytes[start] == UInt8(ascii: "P")
        cursor += 1
        let pathStart = cursor
        while cursor < end && bytes[cursor] != 32 && bytes[cursor] != UInt8(ascii: "?") { cursor += 1 }
        let path = String(decoding: bytes[pathStart..<cursor], as: UTF8.self)
        var contentLength = 0
        // Scan header lines for Content-Length (case-insensitive).
        let name = Array("content-length:".utf8)
        var line = cursor
        while line < end {
            while line < end && bytes[line] != 10 { line += 1 }
            line += 1
            guard line + name.count < end else { break }
            var matches = true
            for offset in 0..<name.count where bytes[line + offset] | 0x20 != name[offset] | 0x20 {
                matches = false
                break
            }
            if matches {
                var digit = line + name.count
                while digit < end && bytes[digit] == 32 { digit += 1 }
                while digit < end && bytes[digit] >= 48 && bytes[digit] <= 57 {
                    contentLength = contentLength * 10 + Int(bytes[digit] - 48)
                    digit += 1
                }
            }
        }
        return HTTPRequestHead(isPost: isPost, path: path, contentLength: contentLength, bodyStart: end + 4)
    }
}
