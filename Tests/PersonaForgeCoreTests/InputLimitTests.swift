import Foundation
import Testing
@testable import PersonaForgeCore

/// Files and YAML that must be refused before they fill memory or hang the loader
/// (docs/config.md, "Limits"; docs/reliability.md, "Broken inputs").
@Suite("Input limits and YAML aliases", .timeLimit(.minutes(1)))
struct InputLimitTests {
    static let oneAxis = """
        name: t
        axes:
          - name: persona
            source: {file: personas.txt}
        steps:
          - name: s
            user: "{{persona}}"

        """

    func problems(_ directory: TemporaryDirectory, limits: InputLimits = .standard, config: String = "run.yaml") -> [ConfigProblem] {
        do {
            _ = try RunConfigLoader(limits: limits).load(path: directory.path + "/" + config)
            return []
        } catch {
            return error.problems
        }
    }

    // MARK: The run config file

    @Test func aConfigPathThatIsADirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/runs", withIntermediateDirectories: true)
        let found = problems(directory, config: "runs")
        #expect(found.map(\.code) == [.missingFile])
        #expect(found.first?.description.hasSuffix("/runs: cannot read the run config: it is a directory; give the path of a YAML file, e.g. config/demo-questions.yaml") == true)
    }

    @Test func aConfigLargerThanTheLimitIsRefusedFromItsSizeAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.sparse("run.yaml", size: 10 << 30)
        let found = problems(directory)
        #expect(found.map(\.code) == [.tooLarge])
        #expect(found.first?.message == "the run config is 10 GiB; a run config may be at most 8 MiB: put long lists of values in an axis file (source: {file: ...})")
    }

    @Test func configTextIsCheckedForUTF8AndNUL() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("latin1.yaml", bytes: Array("name: t\ndescription: caf".utf8) + [0xE9] + [0x0A])
        try directory.write("nul.yaml", bytes: Array("name: t\n\n".utf8) + [0] + [0x0A])
        let latin1 = problems(directory, config: "latin1.yaml")
        #expect(latin1.map(\.code) == [.notText])
        #expect(latin1.first?.line == 2)
        #expect(latin1.first?.message.contains("line 2 is not valid UTF-8") == true)
        let nul = problems(directory, config: "nul.yaml")
        #expect(nul.map(\.code) == [.notText])
        #expect(nul.first?.line == 3)
    }

    // MARK: Files the config names

    @Test func aTenGigabyteAxisFileIsRefusedBeforeItIsRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", Self.oneAxis)
        try directory.sparse("personas.txt", size: 10 << 30)
        let found = problems(directory)
        #expect(found.map(\.code) == [.tooLarge])
        #expect(found.first?.file.hasSuffix("run.yaml") == true)
        #expect(found.first?.line == 3)
        #expect(found.first?.message.contains("axis 'persona': 'personas.txt' (resolved to \(directory.path)/personas.txt) is 10 GiB; the files of one run config may hold at most 128 MiB in all") == true)
        #expect(found.first?.message.contains("source: {postgres: ...}") == true)
    }

    @Test func theFilesOfOneConfigShareOneBudget() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", """
            name: t
            axes:
              - name: persona
                source: {file: personas.txt}
              - name: topic
                source: {file: topics.txt}
            steps:
              - name: s
                user: "{{persona}} {{topic}}"
            """)
        try directory.write("personas.txt", String(repeating: "p\n", count: 30))
        try directory.write("topics.txt", String(repeating: "t\n", count: 30))
        #expect(problems(directory, limits: InputLimits(fileBytes: 120)) == [])
        let found = problems(directory, limits: InputLimits(fileBytes: 100))
        #expect(found.map(\.code) == [.tooLarge])
        #expect(found.first?.line == 5)
        #expect(found.first?.message.contains("(40 bytes left after the other files)") == true)
    }

    @Test func aLongLineIsRefusedWithItsLineNumber() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", Self.oneAxis)
        try directory.write("personas.txt", "a nurse\n" + String(repeating: "x", count: 5000) + "\na potter\n")
        let found = problems(directory, limits: InputLimits(lineBytes: 1024))
        #expect(found.map(\.code) == [.tooLarge])
        #expect(found.first?.file == directory.path + "/personas.txt")
        #expect(found.first?.line == 2)
        #expect(found.first?.message == "axis 'persona': line 2 is longer than 1 KiB; a line holds one value (is this the right file?)")
    }

    @Test(arguments: [
        ("invalid UTF-8", Array("a nurse\n".utf8) + [0xC3, 0x28] + Array("\n".utf8), ConfigProblem.Code.notText, 2, "line 2 is not valid UTF-8"),
        ("a NUL byte", Array("a\nb\nc".utf8) + [0] + Array("\n".utf8), .notText, 3, "line 3 contains a NUL byte: this is a binary file"),
        ("a NUL byte in an unfinished last line", Array("a\nb".utf8) + [0], .notText, 2, "line 2 contains a NUL byte"),
    ])
    func anAxisFileThatIsNotTextIsRefusedWithItsLine(label: String, bytes: [UInt8], code: ConfigProblem.Code, line: Int, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", Self.oneAxis)
        try directory.write("personas.txt", bytes: bytes)
        let found = problems(directory)
        #expect(found.map(\.code) == [code], "\(label)")
        #expect(found.first?.file == directory.path + "/personas.txt")
        #expect(found.first?.line == line)
        #expect(found.first?.message.contains(message) == true, "\(found)")
    }

    @Test func anAxisFilePathThatIsADirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", Self.oneAxis)
        try FileManager.default.createDirectory(atPath: directory.path + "/personas.txt", withIntermediateDirectories: true)
        let found = problems(directory)
        #expect(found.map(\.code) == [.missingFile])
        #expect(found.first?.line == 3)
        #expect(found.first?.message.hasSuffix("personas.txt) is a directory, not a file") == true)
    }

    @Test func escapedNULsInValuesAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("p.jsonl", "{\"persona\": \"ok\", \"region\": \"n\"}\n{\"persona\": \"a\\u0000b\", \"region\": \"n\"}\n{\"persona\": \"c\", \"region\": \"\\u0000\"}\n")
        try directory.write("run.yaml", """
            name: t
            axes:
              - name: persona
                source: {file: p.jsonl, fields: [region]}
              - name: level
                source: {values: ["easy", "ha\\0rd", {value: x, note: "\\0"}]}
            steps:
              - name: s
                user: "{{persona}} {{persona.region}} {{level}}"
            """)
        let found = problems(directory)
        #expect(found.map(\.code) == [.notText, .notText, .notText, .notText])
        #expect(found.map(\.line) == [2, 3, 6, 6])
        #expect(found.map(\.message).contains("axis 'persona': line 2: the value of 'persona' contains a NUL character (\\u0000), which PostgreSQL cannot store in text; remove it"))
    }

    // MARK: The reader itself

    @Test func anEndlessDeviceIsRefusedAsItArrives() throws {
        // /dev/zero has no size to stat: the zeros are found in the first chunk.
        #expect(throws: TextFileReader.Failure.nulByte(line: 1)) {
            _ = try TextFileReader.read("/dev/zero", budget: 1 << 40, lineLimit: nil).count
        }
    }

    @Test func aStreamOfTextStopsAtTheBudget() throws {
        // A FIFO has no size either; it is read only up to the budget.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.path + "/stream.txt"
        #expect(mkfifo(fifo, 0o600) == 0)
        signal(SIGPIPE, SIG_IGN)  // the writer outlives the reader
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            let line = Array(String(repeating: "a", count: 1023).utf8) + [0x0A]
            for _ in 0..<(8 << 10) where line.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
            close(descriptor)
        }
        writer.start()
        #expect(throws: TextFileReader.Failure.tooLarge(size: nil)) {
            _ = try TextFileReader.read(fifo, budget: 3 << 20, lineLimit: 1 << 20).count
        }
    }

    @Test func aCharacterSplitBetweenTwoChunksIsRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // "é" (2 bytes) straddles the first 1 MiB chunk boundary.
        let first = String(repeating: "a", count: TextFileReader.chunkBytes - 1)
        let path = try directory.write("split.txt", first + "é\nnext\n")
        let text = try TextFileReader.read(path, budget: 4 << 20, lineLimit: 4 << 20)
        #expect(text.hasSuffix("aé\nnext\n"))
        #expect(text.utf8.count == TextFileReader.chunkBytes + 7)
    }

    @Test func storedFilesAreCheckedForNULButNotHeldToTheSizeLimitsAgain() throws {
        // Workers load a run from the file contents stored with it at submit time.
        let files: @Sendable (String) throws -> String = { path in path.hasSuffix("big.txt") ? String(repeating: "x\n", count: 100) : "a\nb\u{0}\n" }
        let yaml = Self.oneAxis
        #expect {
            _ = try RunConfigLoader(files: files).load(yaml: yaml, file: "run.yaml", baseDirectory: "/r")
        } throws: { ($0 as? RunConfigError)?.problems.map(\.code) == [.notText] }
        let stored = try RunConfigLoader(limits: InputLimits(fileBytes: 100), files: files)
            .load(yaml: yaml.replacingOccurrences(of: "personas.txt", with: "big.txt"), file: "run.yaml", baseDirectory: "/r")
        #expect(stored.axes[0].count == 100)
    }

    @Test func theRecordingLoaderHandsOverEveryFileButTheConfig() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("run.yaml", Self.oneAxis)
        try directory.write("personas.txt", "a\nb\n")
        final class Seen: @unchecked Sendable {
            // @unchecked Sendable: the loader calls `record` synchronously, on this test's thread.
            var files: [String: String] = [:]
        }
        let seen = Seen()
        let run = try RunConfigLoader(recording: { path, text in seen.files[path] = text }).load(path: directory.path + "/run.yaml")
        #expect(run.axes[0].count == 2)
        #expect(seen.files == [directory.path + "/personas.txt": "a\nb\n"])
    }

    // MARK: YAML aliases

    /// Anchors a0…a8 that expand to 10^9 scalars, then `use` (at line 12).
    static func billionLaughs(_ use: String) -> String {
        var lines = ["name: t", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...8 {
            lines.append("x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        lines += ["axes: [{name: persona, source: {values: [a]}}]", use, "steps: [{name: s, user: hi}]"]
        return lines.joined(separator: "\n")
    }

    @Test(arguments: [
        ("a bomb as a value", billionLaughs("description: *a8"), 7, "YAML aliases expand the run config by more than 1 MiB (alias *a4 here), as a YAML bomb does"),
        ("a bomb as an implicit key", billionLaughs("*a8 : 1"), 12, "a YAML alias (*name) is used in a mapping key"),
        ("a bomb inside a flow key", billionLaughs("bomb: {[*a8, x]: 1}"), 12, "a YAML alias (*name) is used in a mapping key"),
        ("a bomb as an explicit key", billionLaughs("? *a8\n: 1"), 12, "explicit mapping keys ('? key') are not used in a run config"),
        ("a big scalar aliased often", "name: t\nx: &big \"\(String(repeating: "y", count: 300_000))\"\ndescription: [*big, *big, *big, *big]\n", 3, "YAML aliases expand the run config by more than 1 MiB (alias *big here)"),
        ("an alias chain deeper than libyaml's limit", "name: t\nx0: &a0 [z]\n" + (1...1001).map { "x\($0): &a\($0) [*a\($0 - 1)]" }.joined(separator: "\n") + "\n", 1001, "nests more than 1000 levels deep"),
    ])
    func aliasesThatExpandTooFarAreRefusedQuickly(label: String, yaml: String, line: Int, message: String) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let found = try loadProblems(yaml)
        #expect(clock.now - start < .seconds(5), "\(label) took \(clock.now - start)")
        let problem = found.first { $0.code == .yamlAliases }
        #expect(problem?.line == line, "\(label): \(found)")
        #expect(problem?.message.contains(message) == true, "\(label): \(found)")
        #expect(found.count == 1, "\(label): nothing else is looked at once aliases are refused: \(found)")
    }

    @Test func aliasesWithinTheLimitLoad() throws {
        #expect(try loadProblems("""
            name: t
            axes:
              - name: persona
                source: {values: &people [a nurse, "a potter: retired"]}
              - name: other
                source: {values: *people}
            steps:
              - name: s
                system: &careful "You are **careful**: answer briefly. * x: y"
                user: |
                  **Step 1**: *think* about {{persona}} and {{other}}
                  - *a : b
                  ? not a key
              - {name: s2, system: *careful, user: "{{steps.s}}"}  # *c: d
              - name: s3
                system: *careful
                user: 'it''s *x: y'
            """) == [])
    }

    /// The input the fuzzer crashed the run-config parser with: now a config problem.
    @Test func theFuzzersCrashingConfigIsRefusedWithAProblem() {
        let yaml = "a: &a [1,2]\nb:TOX_TESTENV_PASSENV\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}*b,*b,*b]\n"
        let (config, problems) = RunConfigParser(file: "fuzz.yaml", baseDirectory: "/nonexistent").parse(yaml)
        #expect(config == nil)
        #expect(!problems.isEmpty)
    }

    @Test(arguments: [
        ("key: *a", nil),
        ("- *a", nil),
        ("key: [*a, *b]", nil),
        ("- {name: s2, system: *sys, user: x}", nil),
        ("k: {a: *x, b: *y}", nil),
        ("k: '*a: b'", nil),
        ("k: \"*a: \\\" b\"", nil),
        ("k: a *b: c", nil),
        ("k: |\n  *a: b\n  ? c\nnext: 1", nil),
        ("- k: >-\n    *a: b\n- *c", nil),
        ("# *a: b", nil),
        ("k: \"multi\n  *a: b\"", nil),
        ("k: [*a,\n  *b]", nil),
        ("*a : 1", YAMLAliasGuard.KeyProblem.aliasInKey(line: 1)),
        ("- *a : 1", .aliasInKey(line: 1)),
        ("x:\n  *a: 1", .aliasInKey(line: 2)),
        ("k: {*a: 1}", .aliasInKey(line: 1)),
        ("k: {[*a, b]: 1}", .aliasInKey(line: 1)),
        ("k: [{x: *y}: 2]", .aliasInKey(line: 1)),
        ("k: {\"q\": 1, *a: 2}", .aliasInKey(line: 1)),
        ("k: |\n  text\n*a: 1", .aliasInKey(line: 3)),
        ("? a\n: b", .explicitKey(line: 1)),
        ("k: {? a : b}", .explicitKey(line: 1)),
        // A `]` or `}` with no flow collection open (found by fuzzing: it popped the
        // guard's base level and crashed), and a stray `[` inside a plain scalar.
        ("b: x*b,*b]", nil),
        ("a: b}\nc: ]]\n*d: 1", .aliasInKey(line: 3)),
        ("k: a[b\nj: c", nil),
    ])
    func complexKeysAreFoundInTheText(yaml: String, expected: YAMLAliasGuard.KeyProblem?) {
        #expect(YAMLAliasGuard.complexKey(in: yaml) == expected, "\(yaml)")
    }
}
