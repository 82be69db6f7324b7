import Foundation

/// Tests/fixtures/http_fixture.py running on a free loopback port.
public final class HTTPFixtureServer: Sendable {
    public let port: Int
    private let process: ChildProcess

    public init(script: String = "http_fixture.py", extraArguments: [String] = []) throws {
        port = try Loopback.freePort()
        process = try ChildProcess([ProjectPaths.python, ProjectPaths.fixture(script), String(port)] + extraArguments)
        try Loopback.waitUntilListening(port: port)
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() { process.terminate() }
}
