import Foundation
import Testing

/// End-to-end tests of `personaforge dedup` on hostile input, running the built executable.
@Suite("personaforge dedup (executable)")
struct DedupCommandTests {
    /// Three near-identical texts (long enough for 5-word shingles) and unrelated ones.
    static let base = (0..<60).map { "word\($0 * 7 % 31)x\($0)" }.joined(separator: " ")
    static let unrelated = (0..<60).map { "other\($0 * 3)y\($0 % 11)" }.joined(separator: " ")

    @Test func keptLinesAreByteIdenticalAndDuplicatesCarryReferences() throws {
        let run = try DedupRun()
        let lines = [
            #"{"id": "a", "text": "\#(Self.base)", "extra": {"nested": [1, 2.50, null]}}"#,
            #"{"text":"\#(Self.unrelated)","snowman":"\u2603 ☃","id":"b"}"#,
            #"{"id": "c", "text": "\#(Self.base.uppercased())!!"}"#,
            "{\"text\": \"\(Self.unrelated)\", \"id\": \"d\"}\r",
        ]
        try run.writeInput(lines.joined(separator: "\n") + "\n")
        let result = try run.dedup(["--threshold", "0.8"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try run.output() == Data((lines[0] + "\n" + lines[1] + "\n").utf8))
        let duplicates = try run.duplicateObjects()
        #expect(duplicates.count == 2)
        #expect(duplicates[0]["id"] as? String == "c")
        #expect(duplicates[0]["duplicate_of"] as? Int == 1)
        #expect(duplicates[0]["similarity"] as? Double == 1.0)
        #expect(duplicates[1]["id"] as? String == "d")
        #expect(duplicates[1]["duplicate_of"] as? Int == 2)
        #expect(result.stdout.contains("records: 4  kept: 2  duplicates: 2"))
    }

    @Test func idFieldIsReportedInsteadOfLineNumbers() throws {
        let run = try DedupRun()
        try run.writeInput("""
            {"id": 17, "text": "\(Self.base)"}
            {"id": "second", "text": "\(Self.base)"}

            """)
        let result = try run.dedup(["--id-field", "id"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try run.duplicateObjects().first?["duplicate_of"] as? Int == 17)
    }

    @Test func emptyLinesAreSkippedAndCountedAndLineNumbersStayPhysical() throws {
        let run = try DedupRun()
        try run.writeInput("\n   \n{\"text\": \"\(Self.base)\"}\n\n{\"text\": \"\(Self.base)\"}")
        let result = try run.dedup([])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("empty lines: 3"))
        #expect(try run.duplicateObjects().first?["duplicate_of"] as? Int == 3)
        #expect(String(decoding: try run.output(), as: UTF8.self) == "{\"text\": \"\(Self.base)\"}\n")
    }

    @Test func invalidJSONFailsWithTheLineNumberAndLeavesNoOutput() throws {
        let run = try DedupRun()
        try run.writeInput("{\"text\": \"fine\"}\n{\"text\": \"also fine\"}\n{\"text\": \"broken\n")
        let result = try run.dedup([])
        #expect(result.status != 0)
        #expect(result.stderr.contains("line 3"), "\(result.stderr)")
        #expect(result.stderr.contains("invalid JSON"))
        #expect(!FileManager.default.fileExists(atPath: run.outputPath))
        #expect(!FileManager.default.fileExists(atPath: run.duplicatesPath))
        #expect(try run.leftoverFiles().isEmpty)
    }

    @Test(arguments: [
        (#"[1, 2, 3]"#, "expected a JSON object"),
        (#"{"body": "no text field"}"#, "no field 'text'"),
        (#"{"text": 42}"#, "expected a string"),
        (#"{"text": null}"#, "field 'text' is null, expected a string"),
        (#"{"text": true}"#, "field 'text' is a boolean, expected a string"),
        (#"{"text": "a",}"#, "invalid JSON"),
        (#"{"text": "a", "n": [1, 2,]}"#, "invalid JSON"),
        (#"{"text": "bad \x escape"}"#, "invalid JSON"),
        (#"{"text": "a", "n": 01}"#, "invalid JSON"),
        (#"{"text": "a"} trailing"#, "invalid JSON"),
    ])
    func badRecordsFailWithTheLineNumber(line: String, message: String) throws {
        let run = try DedupRun()
        try run.writeInput("{\"text\": \"ok\"}\n\(line)\n")
        let result = try run.dedup([])
        #expect(result.status != 0)
        #expect(result.stderr.contains("line 2"), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.outputPath))
    }

    @Test(arguments: [
        (Data(#"{"text": "bad "#.utf8) + Data([0xFF]) + Data(#" byte"}"#.utf8), "invalid UTF-8"),
        (Data("{\"text\": \"raw\ttab\"}".utf8), "unescaped control character"),
    ])
    func bytesThatAreNotJSONFailWithTheLineAndByte(line: Data, message: String) throws {
        let run = try DedupRun()
        try (Data("{\"text\": \"ok\"}\n".utf8) + line + Data("\n".utf8)).write(to: URL(fileURLWithPath: run.inputPath))
        let result = try run.dedup([])
        #expect(result.status != 0)
        #expect(result.stderr.contains("line 2, byte"), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try run.leftoverFiles().isEmpty)
    }

    @Test func unreadableInputAndUnwritableOutputNameThePath() throws {
        let run = try DedupRun()
        let missing = try ProcessResult.run(
            PersonaForgeExecutable.url(), ["dedup", "--input", run.directory.path + "/absent.jsonl", "--output", run.outputPath])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot open input"), "\(missing.stderr)")
        #expect(missing.stderr.contains("absent.jsonl"))
        try run.writeInput("{\"text\": \"x\"}\n")
        let unwritable = try ProcessResult.run(
            PersonaForgeExecutable.url(), ["dedup", "--input", run.inputPath, "--output", run.directory.path + "/no/such/dir/kept.jsonl"])
        #expect(unwritable.status != 0)
        #expect(unwritable.stderr.contains("cannot create output"), "\(unwritable.stderr)")
    }

    @Test func anEmptyInputIsZeroRecordsNotAnError() throws {
        let run = try DedupRun()
        try run.writeInput("")
        let result = try run.dedup([])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("records: 0  kept: 0  duplicates: 0"))
        #expect(try run.output().isEmpty)
    }

    @Test func existingDuplicateFieldsAreReplacedNotRepeated() throws {
        let run = try DedupRun()
        try run.writeInput("""
            {"text": "\(Self.base)"}
            {"text": "\(Self.base)", "duplicate_of": "stale", "similarity": -1}

            """)
        let result = try run.dedup([])
        #expect(result.status == 0, "\(result.stderr)")
        let duplicate = try #require(try run.duplicateObjects().first)
        #expect(duplicate["duplicate_of"] as? Int == 1)
        #expect(duplicate["similarity"] as? Double == 1.0)
    }

    @Test func skipMissingCopiesRecordsWithoutTheField() throws {
        let run = try DedupRun()
        let lines = [#"{"text": "a b c"}"#, #"{"other": 1}"#, #"{"text": "a b c"}"#]
        try run.writeInput(lines.joined(separator: "\n"))
        let result = try run.dedup(["--skip-missing"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("skipped (missing field): 1"))
        #expect(String(decoding: try run.output(), as: UTF8.self) == lines[0] + "\n" + lines[1] + "\n")
    }

    @Test func hugeLinesWork() throws {
        let run = try DedupRun()
        // ~10 MB of text in one line, then a short record and a duplicate of the huge one.
        let huge = String(repeating: Self.base + " ", count: 10 * 1024 * 1024 / Self.base.utf8.count)
        let hugeLine = #"{"text": "\#(huge)"}"#
        try run.writeInput(hugeLine + "\n{\"text\": \"short one\"}\n" + hugeLine + "\n")
        let result = try run.dedup([])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try run.output() == Data((hugeLine + "\n{\"text\": \"short one\"}\n").utf8))
        #expect(try run.duplicateObjects().first?["duplicate_of"] as? Int == 1)
    }

    @Test func invalidParametersAreUsageErrors() throws {
        let run = try DedupRun()
        try run.writeInput("{\"text\": \"x\"}\n")
        #expect(try run.dedup(["--threshold", "1.5"]).status != 0)
        #expect(try run.dedup(["--bands", "4"]).stderr.contains("--rows"))
        #expect(try run.dedup(["--ngram", "0"]).status != 0)
    }
}

/// A temporary directory with an input file, and a way to run `personaforge dedup` on it.
struct DedupRun {
    let directory: URL
    var inputPath: String { directory.appendingPathComponent("input.jsonl").path }
    var outputPath: String { directory.appendingPathComponent("kept.jsonl").path }
    var duplicatesPath: String { directory.appendingPathComponent("dups.jsonl").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-dedup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func writeInput(_ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: inputPath))
    }

    func output() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: outputPath)) }

    func duplicateObjects() throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: duplicatesPath))
        return try data.split(separator: 0x0A).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
    }

    /// Files other than the input (e.g. temporary outputs left behind).
    func leftoverFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "input.jsonl" }
    }

    func dedup(_ arguments: [String]) throws -> ProcessResult {
        try ProcessResult.run(
            PersonaForgeExecutable.url(),
            ["dedup", "--input", inputPath, "--field", "text", "--output", outputPath, "--duplicates", duplicatesPath]
                + arguments)
    }
}
