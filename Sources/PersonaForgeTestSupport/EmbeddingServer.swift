import Foundation

/// A second llama.cpp server (deploy/local/llm_server.py --embeddings) with the local
/// SmolLM2 model, on a free loopback port, serving `/v1/embeddings` (mean pooling).
/// It needs the stack's Python venv (`deploy/local/stack.sh up` installs it).
public final class EmbeddingServer: Sendable {
    public let port: Int
    /// The model name it answers to.
    public let model = "smollm2-embed"
    private let process: ChildProcess

    public init(timeout: Duration = .seconds(120)) throws {
        let environment = ProcessInfo.processInfo.environment
        let venv = environment["PF_VENV"] ?? ProjectPaths.root.appendingPathComponent(".local/venv").path
        let python = "\(venv)/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("no Python venv at \(venv): run deploy/local/stack.sh up (it installs xllamacpp and the model)")
        }
        port = try Loopback.freePort()
        var childEnvironment = environment
        childEnvironment["OMP_WAIT_POLICY"] = "PASSIVE"
        let script = ProjectPaths.root.appendingPathComponent("deploy/local/llm_server.py").path
        process = try ChildProcess(
            [python, script, "--host", "127.0.0.1", "--port", String(port), "--alias", model, "--embeddings",
             "--threads", "1", "--parallel", "2", "--context", "4096"],
            environment: childEnvironment
        )
        // The port opens once the model is loaded.
        try Loopback.waitUntilListening(port: port, timeout: timeout)
    }

    /// `http://127.0.0.1:PORT/v1`.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    public func stop() { _ = process.terminate() }

    deinit { _ = process.terminate() }
}
