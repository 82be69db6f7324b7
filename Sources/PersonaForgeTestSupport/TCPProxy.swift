import Foundation

/// A loopback TCP proxy to a local server that a test can cut and restore, to make a
/// shared service (the stack's PostgreSQL) unreachable for one process under test
/// without disturbing anyone else using it.
///
/// Plain blocking sockets on threads of its own (a test fixture, never on Swift's pool).
public final class TCPProxy: @unchecked Sendable {
    // @unchecked Sendable: `listener` and `links` are only touched under `lock`.
    public let port: Int
    private let targetPort: Int
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var links: [Int32] = []

    public init(targetPort: Int) throws {
        self.targetPort = targetPort
        port = try Loopback.freePort()
        try restore()
    }

    deinit {
        cut()
    }

    /// Listens again on the same port (after ``cut()``).
    public func restore() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(fd, 64) == 0 else {
            close(fd)
            throw TestSupportError("TCPProxy cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        lock.withLock { listener = fd }
        Thread { [self] in acceptLoop(fd) }.start()
    }

    /// Refuses new connections and drops every open one.
    public func cut() {
        lock.withLock {
            if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
            listener = -1
            for fd in links { shutdown(fd, Int32(SHUT_RDWR)) }
            links = []
        }
    }

    private func acceptLoop(_ listening: Int32) {
        defer { close(listening) }
        while true {
            let client = accept(listening, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var (attempt, connected) = connectUpstream()
            // A signal (a child process of the test ending) can interrupt connect: try afresh.
            for _ in 0..<3 where !connected && errno == EINTR {
                close(attempt)
                (attempt, connected) = connectUpstream()
            }
            let upstream = attempt
            if !connected {
                // Seen as "server closed the connection unexpectedly" by the client: say why.
                FileHandle.standardError.write(Data("TCPProxy: cannot connect to 127.0.0.1:\(targetPort): \(String(cString: strerror(errno)))\n".utf8))
            }
            let open = lock.withLock { () -> Bool in
                guard listener == listening, connected else { return false }
                links += [client, upstream]
                return true
            }
            guard open else {
                close(client)
                close(upstream)
                continue
            }
            let link = Link(client, upstream) { [weak self] in self?.forget(client, upstream) }
            Thread { link.pump(from: client, to: upstream) }.start()
            Thread { link.pump(from: upstream, to: client) }.start()
        }
    }

    private func connectUpstream() -> (Int32, Bool) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: targetPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        return (upstream, connected)
    }

    /// Drops closed sockets from `links` (before they are closed, so `cut()` never
    /// shuts down a descriptor number that was reused elsewhere in the process).
    private func forget(_ a: Int32, _ b: Int32) {
        lock.withLock { links.removeAll { $0 == a || $0 == b } }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }

    /// Two sockets pumped both ways; the second pump to finish closes them.
    private final class Link: @unchecked Sendable {
        // @unchecked Sendable: `running` is only touched under `lock`.
        let sockets: (Int32, Int32)
        private let lock = NSLock()
        private var running = 2
        private let onClose: @Sendable () -> Void

        init(_ a: Int32, _ b: Int32, onClose: @escaping @Sendable () -> Void) {
            sockets = (a, b)
            self.onClose = onClose
        }

        func pump(from source: Int32, to destination: Int32) {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            copying: while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break copying }
                    sent += written
                }
            }
            shutdown(sockets.0, Int32(SHUT_RDWR))
            shutdown(sockets.1, Int32(SHUT_RDWR))
            let last = lock.withLock { () -> Bool in
                running -= 1
                return running == 0
            }
            if last {
                onClose()
                close(sockets.0)
                close(sockets.1)
            }
        }
    }
}
