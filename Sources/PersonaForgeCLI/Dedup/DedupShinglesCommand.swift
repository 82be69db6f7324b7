import ArgumentParser
import Foundation
import PersonaForgeCore

/// Hidden helper for Tests/reference/dedup_accuracy.py: prints the normalized
/// shingles of every record, exactly as `dedup` computes them, so the exact
/// Jaccard ground truth and datasketch see the same sets.
struct DedupShinglesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup-shingles",
        abstract: "Print each record's shingles as JSONL {\"line\": N, \"shingles\": [...]} (testing aid).",
        shouldDisplay: false
    )

    @Option(help: "Input JSONL file.")
    var input: String

    @Option(help: "Name of the string field holding the text.")
    var field: String = "text"

    @Option(help: "Words per shingle.")
    var ngram: Int = 5

    func run() throws {
        let hasher = MinHasher(parameters: try MinHashParameters(ngramSize: ngram))
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
            let object: [String: Any] = ["line": lineNumber, "shingles": hasher.shingles(of: text)]
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
