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
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pf-embedding-server-\(port).log").path
        logPath = log
        process = try ChildProcess(
            [python, script, "--host", "127.0.0.1", "--port", String(port), "--alias", model, "--embeddings",
             "--threads", "1", "--parallel", "2", "--context", "4096"],
            environment: childEnvironment, logPath: log
        )
        // The port opens before the model is loaded (requests get 503 "Loading model");
        // llm_server.py prints its "serving" line once the server is ready.
        let deadline = ContinuousClock.now + timeout
        while true {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if output.contains("llm_server: serving") { break }
            if ContinuousClock.now >= deadline || output.contains("Traceback") || output.contains("llm_server: ") && !output.contains("serving") {
                _ = process.terminate(signal: SIGKILL)
                throw TestSupportError("the embedding server did not start within \(timeout); its output:\n\(output.suffix(2000))")
            }
            usleep(200_000)
        }
    }

    private let logPath: String

    /// `http://127.0.0.1:PORT/v1`.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    public func stop() { _ = process.terminate() }

    deinit {
        _ = process.terminate()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
