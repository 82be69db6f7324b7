import Foundation
import PersonaForgeCore

/// The streaming loop behind `personaforge dedup`: parse each line, compute its
/// signature, ask the LSH index, write the line to the kept or duplicates file.
struct JSONLDeduplicator {
    let hasher: MinHasher
    var index: InMemoryLSHIndex<Int>
    let field: String
    let idField: String?
    let skipMissing: Bool
    let source: String
    /// Per indexed record (index key = ordinal): its line number and, with --id-field, its id as JSON text.
    private var lineNumbers: [Int] = []
    private let decoder: JSONDecoder
    private var ids: [[UInt8]] = []

    init(hasher: MinHasher, index: InMemoryLSHIndex<Int>, field: String, idField: String?, skipMissing: Bool, source: String) {
        self.hasher = hasher
        self.index = index
        self.field = field
        self.idField = idField
        self.skipMissing = skipMissing
        self.source = source
        decoder = JSONLine.decoder(field: field, idField: idField)
    }

    struct Summary {
        var records = 0
        var kept = 0
        var duplicates = 0
        var emptyLines = 0
        var skippedMissing = 0
        var seconds = 0.0

        func text(parameters: MinHashParameters, lsh: LSHParameters) -> String {
            let rate = records > 0 ? Double(duplicates) / Double(records) * 100 : 0
            let perSecond = seconds > 0 ? Double(records) / seconds : 0
            return """
                records: \(records)  kept: \(kept)  duplicates: \(duplicates) (\(String(format: "%.2f", rate))%)  \
                empty lines: \(emptyLines)  skipped (missing field): \(skippedMissing)
                seconds: \(String(format: "%.3f", seconds))  records/s: \(Int(perSecond))  \
                [threshold \(lsh.threshold), \(lsh.bands) bands × \(lsh.rows) rows, \
                \(parameters.ngramSize)-word shingles, \(parameters.permutationCount) permutations, seed \(parameters.seed)]
                """
        }
    }

    mutating func run(input: String, output: String, duplicates: String?) throws -> Summary {
        let started = ProgressLine.now()
        var reader = try LineReader(path: input)
        let keptFile = try AtomicOutputFile(path: output)
        let duplicatesFile = try duplicates.map { try AtomicOutputFile(path: $0) }
        var progress = ProgressLine()
        var summary = Summary()
        var lineNumber = 0
        while try reader.withNextLine({ (line: UnsafeRawBufferPointer) -> Void in
            lineNumber += 1
            try process(line, lineNumber: lineNumber, kept: keptFile, duplicates: duplicatesFile, summary: &summary)
        }) != nil {
            if lineNumber & 255 == 0 {
                progress.update(records: summary.records, duplicates: summary.duplicates,
                                bytes: reader.bytesConsumed, totalBytes: reader.totalBytes, started: started)
            }
        }
        progress.finish()
        try keptFile.commit()
        try duplicatesFile?.commit()
        summary.seconds = ProgressLine.now() - started
        return summary
    }

    private mutating func process(
        _ line: UnsafeRawBufferPointer, lineNumber: Int,
        kept: AtomicOutputFile, duplicates: AtomicOutputFile?, summary: inout Summary
    ) throws {
        if JSONLine.isBlank(line) {
            summary.emptyLines += 1
            return
        }
        let record = try JSONLine(line, lineNumber: lineNumber, source: source, decoder: decoder)
        let text: String
        switch record.fields.text {
        case .missing:
            guard skipMissing else {
                throw DedupInputError(
                    "\(source) line \(lineNumber): no field '\(field)'; choose the text field with --field, "
                        + "or pass --skip-missing to copy such records unchanged")
            }
            summary.skippedMissing += 1
            try kept.write(line)
            try kept.writeNewline()
            return
        case .other(let type):
            throw DedupInputError("\(source) line \(lineNumber): field '\(field)' is \(type), expected a string")
        case .string(let string):
            text = string
        }
        if let id = record.fields.id { ids.append(id) }
        summary.records += 1
        let signature = hasher.signature(of: text)
        let ordinal = lineNumbers.count
        lineNumbers.append(lineNumber)
        switch index.insert(ordinal, signature: signature) {
        case .unique:
            summary.kept += 1
            try kept.write(line)
            try kept.writeNewline()
        case .duplicate(let earlier, let similarity):
            summary.duplicates += 1
            guard let duplicates else { return }
            let reference = idField != nil ? ids[earlier] : Array(String(lineNumbers[earlier]).utf8)
            try duplicates.write(try record.addingDuplicateFields(reference: reference, similarity: similarity))
            try duplicates.writeNewline()
        }
    }
}
