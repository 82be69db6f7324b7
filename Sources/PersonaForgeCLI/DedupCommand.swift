import ArgumentParser
import Foundation
import PersonaForgeCore

/// `personaforge dedup`: near-duplicate removal (MinHash + LSH) on any JSONL file,
/// without Redis or PostgreSQL.
struct DedupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup",
        abstract: "Remove near-duplicate records from a JSONL file (MinHash + LSH, first seen wins).",
        discussion: """
            Reads INPUT line by line. A record is a near-duplicate if the estimated Jaccard \
            similarity of its word n-gram shingles with ANY earlier record reaches --threshold. \
            Kept records are written to --output byte for byte; duplicates, with added fields \
            "duplicate_of" (earlier line number, or its --id-field value) and "similarity", go to \
            --duplicates. Empty lines are skipped and counted. Outputs are written to temporary \
            files and renamed at the end, so a failed run leaves no partial output. \
            See docs/dedup.md.
            """
    )

    @Option(help: "Input JSONL file ('-' for standard input).")
    var input: String

    @Option(help: "Name of the string field holding the text to compare.")
    var field: String = "text"

    @Option(help: "Jaccard similarity (0...1) at or above which a record is a near-duplicate.")
    var threshold: Double = 0.8

    @Option(help: "Words per shingle.")
    var ngram: Int = 5

    @Option(name: .customLong("num-perm"), help: "MinHash permutations (signature length).")
    var numPerm: Int = 128

    @Option(help: "Seed of the MinHash permutations.")
    var seed: UInt64 = 1

    @Option(help: "LSH bands (with --rows); default: chosen from the threshold like datasketch.")
    var bands: Int?

    @Option(help: "LSH rows per band (with --bands).")
    var rows: Int?

    @Option(help: "Output JSONL file for kept records (lines copied unchanged).")
    var output: String

    @Option(help: "Optional JSONL file for duplicates, with 'duplicate_of' and 'similarity' added.")
    var duplicates: String?

    @Option(name: .customLong("id-field"), help: "Field whose value 'duplicate_of' reports instead of the line number.")
    var idField: String?

    @Flag(name: .customLong("skip-missing"), help: "Copy records without the text field to the output unchanged instead of failing.")
    var skipMissing = false

    func validate() throws {
        guard (bands == nil) == (rows == nil) else {
            throw ValidationError("--bands and --rows go together: give both, or neither to derive them from --threshold")
        }
    }

    func run() throws {
        let parameters: MinHashParameters
        let lsh: LSHParameters
        do {
            parameters = try MinHashParameters(ngramSize: ngram, permutationCount: numPerm, seed: seed)
            if let bands, let rows {
                lsh = try LSHParameters(threshold: threshold, bands: bands, rows: rows, permutationCount: numPerm)
            } else {
                lsh = try LSHParameters(threshold: threshold, permutationCount: numPerm)
            }
        } catch let error as MinHashParameterError {
            throw ValidationError(error.message)
        }
        var deduplicator = JSONLDeduplicator(
            hasher: MinHasher(parameters: parameters), index: InMemoryLSHIndex(parameters: lsh),
            field: field, idField: idField, skipMissing: skipMissing, source: input)
        let summary = try deduplicator.run(input: input, output: output, duplicates: duplicates)
        print(summary.text(parameters: parameters, lsh: lsh))
    }
}
