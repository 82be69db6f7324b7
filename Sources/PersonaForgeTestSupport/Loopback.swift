import Foundation
import Synchronization

/// Loopback helpers for tests: free ports and waiting for servers.
public enum Loopback {
    /// A TCP port on 127.0.0.1 that nothing uses right now, for a server a test starts.
    ///
    /// It comes from below the kernel's ephemeral range
    /// (`/proc/sys/net/ipv4/ip_local_port_range`), never from inside it: a port
    /// the kernel picked for `bind(0)` is free again the moment it is closed, and
    /// the suite's own outgoing connections to Redis, PostgreSQL and the LLM take
    /// their local ports from that same range, so one of them could hold the
    /// port by the time the service binds it (a CI run lost a test to that: the
    /// service exited on a taken port, the test saw nothing listen for 60 s).
    /// Ports handed out once in this process are not handed out again.
    public static func freePort() throws -> Int {
        try freePort(companionOffset: nil)
    }

    /// A free port whose `port + companionOffset` is free too (a Redis Cluster node
    /// also listens on its port + 10000), both below the ephemeral range and neither
    /// handed out before.
    public static func freePort(companionOffset offset: Int?) throws -> Int {
        let (low, high) = listeningRange
        let top = high - (offset ?? 0)
        guard top > low else { throw TestSupportError("no room for a port pair \(offset ?? 0) apart in \(low)..<\(high)") }
        for _ in 0..<2_000 {
            let port = Int.random(in: low..<top)
            let wanted = offset.map { [port, port + $0] } ?? [port]
            let claimed = handedOut.withLock { taken -> Bool in
                guard wanted.allSatisfy({ !taken.contains($0) }) else { return false }
                taken.formUnion(wanted)
                return true
            }
            if claimed, wanted.allSatisfy(canBind(port:)) { return port }
        }
        throw TestSupportError("no free TCP port on 127.0.0.1 in \(low)..<\(high)")
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// Ports for test servers: from 10000 up to the start of the ephemeral range
    /// (or 20000..<30000 where that range cannot be read or leaves too little room).
    static let listeningRange: (Int, Int) = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let ephemeralLow = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
        return ephemeralLow >= 15_000 ? (10_000, ephemeralLow) : (20_000, 30_000)
    }()

    /// Whether a listening socket could be bound to 127.0.0.1:`port` now.
    static func canBind(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withLoopbackAddress(port: port) { bind(fd, $0, $1) == 0 }
    }

    /// `body` with 127.0.0.1:`port` as a `sockaddr` and its length.
    private static func withLoopbackAddress<Result>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel picks (and listening, if
    /// asked): the descriptor, which the caller closes, and the port.
    public static func boundSocket(listening: Bool) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && (!listening || listen(fd, 16) == 0) && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError("cannot bind a socket on 127.0.0.1: \(reason)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return withLoopbackAddress(port: port) { connect(fd, $0, $1) == 0 }
    }

    /// Waits until `port` accepts connections.
    public static func waitUntilListening(port: Int, timeout: Duration = .seconds(10)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isListening(port: port) { return }
            usleep(20_000)
        }
        throw TestSupportError("nothing listens on 127.0.0.1:\(port) after \(timeout)")
    }
}
