import ArgumentParser
import Foundation
import PersonaForgeCore

/// Hidden helper for Tests/reference/dedup_accuracy.py: prints the normalized
/// shingles of every record, exactly as `dedup` computes them, so the exact
/// Jaccard ground truth and datasketch see the same sets. With `--signatures`
/// it also prints each record's MinHash signature for every `--seeds` value, so
/// the script can measure the estimator's error against exact Jaccard.
struct DedupShinglesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup-shingles",
        abstract: "Print each record's shingles as JSONL {\"line\": N, \"shingles\": [...]} (testing aid).",
        discussion: "With --signatures, each object also has \"signatures\": {\"SEED\": [k values], ...}.",
        shouldDisplay: false
    )

    @Option(help: "Input JSONL file.")
    var input: String

    @Option(help: "Name of the string field holding the text.")
    var field: String = "text"

    @Option(help: "Words per shingle.")
    var ngram: Int = 5

    @Option(name: .customLong("num-perm"), help: "MinHash permutations, with --signatures.")
    var numPerm: Int = 128

    @Option(help: "Comma-separated MinHash seeds, with --signatures.")
    var seeds: String = "1"

    @Flag(help: "Also print the MinHash signature of each record for each seed.")
    var signatures = false

    func run() throws {
        let hasher = MinHasher(parameters: try MinHashParameters(ngramSize: ngram))
        var signers: [(String, MinHasher)] = []
        if signatures {
            for field in seeds.split(separator: ",") {
                guard let seed = UInt64(field.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--seeds: '\(field)' is not an unsigned integer; use e.g. --seeds 1,2,3")
                }
                let parameters = try MinHashParameters(ngramSize: ngram, permutationCount: numPerm, seed: seed)
                signers.append((String(seed), MinHasher(parameters: parameters)))
            }
        }
        var reader = try LineReader(path: input)
        var lineNumber = 0
        var out = FileHandleOutput()
        let decoder = JSONLine.decoder(field: field, idField: nil)
        while try reader.withNextLine({ (line: UnsafeRawBufferPointer) -> Void in
            lineNumber += 1
            guard !JSONLine.isBlank(line) else { return }
            let record = try JSONLine(line, lineNumber: lineNumber, source: input, decoder: decoder)
            guard case .string(let text) = record.fields.text else {
                throw DedupInputError("\(input) line \(lineNumber): no string field '\(field)'")
            }
            var object: [String: Any] = ["line": lineNumber, "shingles": hasher.shingles(of: text)]
            if !signers.isEmpty {
                object["signatures"] = Dictionary(uniqueKeysWithValues: signers.map { seed, signer in
                    (seed, signer.signature(of: text).values.map(Int.init))
                })
            }
            out.write(try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
        }) != nil {}
        out.flush()
    }
}

/// Buffered standard output.
struct FileHandleOutput {
    private var buffer = Data()

    mutating func write(_ line: Data) {
        buffer.append(line)
        buffer.append(0x0A)
        if buffer.count > 1 << 20 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
