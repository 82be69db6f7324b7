#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PersonaForgeCore
import PersonaForgeLLM

/// `personaforge-fuzz`: libFuzzer targets for the parsers that read what another
/// process or a user wrote. Build and run them with `deploy/local/fuzz.sh` (docs/reliability.md):
/// it compiles with AddressSanitizer, libFuzzer's coverage and `-D PERSONAFORGE_FUZZ` and links
/// libFuzzer without its `main`: this `main` hands over to `LLVMFuzzerRunDriver`. The target is
/// chosen by `PERSONAFORGE_FUZZ_TARGET`.
/// An ordinary build gets a `main` that says so and exits 64.
///
/// Each target feeds arbitrary bytes to one parser and checks what must hold whatever
/// the bytes: no crash, no hang, and a result or a classified error.
enum FuzzTarget: String, CaseIterable {
    /// `ChatCompletion.decode`: an LLM server's chat and text completion bodies.
    case completion
    /// `EmbeddingResponse.decode`: an embeddings body.
    case embeddings
    /// `RunConfigParser.parse`: a run config's YAML (aliases, types, limits).
    case runConfig = "run-config"
    /// `AxisFileParser.values`: a persona JSONL file's lines.
    case jsonl
    /// `ResultBatchCodec.decode`: a result batch read back from Redis.
    case resultBatch = "result-batch"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .completion:
            // Only "a completion or a classified error, no crash or hang": a Swift
            // String is valid Unicode by construction, so there is no more to check.
            _ = try? ChatCompletion.decode(bytes)
        case .embeddings:
            let expected = Int(bytes.first ?? 1) % 4 + 1
            if let response = try? EmbeddingResponse.decode(bytes, expectedCount: expected) {
                precondition(response.vectors.count == expected, "\(response.vectors.count) vectors decoded where \(expected) were expected")
            }
        case .runConfig:
            let parser = RunConfigParser(file: "fuzz.yaml", baseDirectory: "/nonexistent-fuzz")
            let (config, problems) = parser.parse(String(decoding: bytes, as: UTF8.self))
            precondition(config != nil || !problems.isEmpty, "a config refused without a problem")
        case .jsonl:
            let source = FileAxisSource(path: "fuzz.jsonl", resolvedPath: "/fuzz.jsonl", format: .jsonl, field: "persona", fields: [])
            let (values, problems) = AxisFileParser.values(of: String(decoding: bytes, as: UTF8.self), source: source, axis: "persona")
            precondition(problems.count <= AxisFileParser.problemLimit + 1, "\(problems.count) problems reported")
            _ = values.count
        case .resultBatch:
            if let batch = try? ResultBatchCodec.decode(bytes) {
                // What decodes must encode and decode to the same batch.
                let again = try? ResultBatchCodec.decode(ResultBatchCodec.encode(batch))
                precondition(again != nil, "a decoded batch did not survive encode/decode")
            }
        }
    }

    static let selected: FuzzTarget = {
        let name = getenv("PERSONAFORGE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            printError("personaforge-fuzz: set PERSONAFORGE_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(64)
        }
        return target
    }()
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

#if PERSONAFORGE_FUZZ
/// libFuzzer's entry for programs with their own `main` (libclang_rt.fuzzer_no_main).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

@main
struct FuzzMain {
    static func main() {
        #if PERSONAFORGE_FUZZ
        _ = FuzzTarget.selected
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, count in
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
            FuzzTarget.selected.run(bytes)
            return 0
        })
        #else
        printError("personaforge-fuzz is a libFuzzer target: build and run it with deploy/local/fuzz.sh "
            + "(targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
        exit(64)
        #endif
    }
}
