import Foundation

/// A loopback port that completes TCP handshakes (the kernel does, into the listen
/// backlog) but never accepts or answers: a server that hangs, for tests of what a
/// client does while it waits.
public final class SilentListener: @unchecked Sendable {
    // @unchecked Sendable: `fd` is set once in init and closed once in deinit.
    public let port: Int
    private let fd: Int32

    public init() throws {
        (fd, port) = try Loopback.boundSocket(listening: true)
    }

    deinit {
        close(fd)
    }
}
