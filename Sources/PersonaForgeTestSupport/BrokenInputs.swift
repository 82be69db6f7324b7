public import Foundation

/// A run config that must be refused, with the files it names: the catalogue of
/// docs/reliability.md, "Broken inputs", shared by the tests that run `personaforge
/// plan` and `personaforge submit` on it.
public struct BrokenInput: Sendable, CustomStringConvertible {
    /// What a file of the case holds.
    public enum Contents: Sendable {
        case text(String)
        case bytes([UInt8])
        /// `before`, then one line of `bytes` letters: written in pieces, never held whole.
        case longLine(before: String, bytes: Int)
        /// A sparse file of this size: a "10 GB" file that costs no disk.
        case sparse(Int)
        case directory
    }

    public let label: String
    /// Relative path → contents, written into a fresh directory.
    public let files: [String: Contents]
    /// The path (relative) given to the command.
    public let config: String
    /// The file the message names, relative (an axis file, or the config).
    public let problemFile: String
    /// The line the message names, 0 for none.
    public let line: Int
    /// A part of the message.
    public let message: String

    public var description: String { label }

    public init(_ label: String, files: [String: Contents], config: String = "run.yaml", problemFile: String = "run.yaml", line: Int, message: String) {
        self.label = label
        self.files = files
        self.config = config
        self.problemFile = problemFile
        self.line = line
        self.message = message
    }

    /// Writes the files into `directory`.
    public func write(into directory: URL) throws {
        for (name, contents) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            switch contents {
            case .text(let text):
                try Data(text.utf8).write(to: url)
            case .bytes(let bytes):
                try Data(bytes).write(to: url)
            case .longLine(let before, let count):
                FileManager.default.createFile(atPath: url.path, contents: Data(before.utf8))
                let handle = try FileHandle(forWritingTo: url)
                try handle.seekToEnd()
                let piece = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
                for start in stride(from: 0, to: count, by: piece.count) {
                    try handle.write(contentsOf: piece.prefix(min(piece.count, count - start)))
                }
                try handle.write(contentsOf: Data("\n".utf8))
                try handle.close()
            case .sparse(let size):
                FileManager.default.createFile(atPath: url.path, contents: nil)
                let handle = try FileHandle(forWritingTo: url)
                try handle.truncate(atOffset: UInt64(size))
                try handle.close()
            case .directory:
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            }
        }
    }

    /// The start of the line the command must print for this case, for files in `directory`.
    public func expectedPrefix(in directory: URL) -> String {
        let path = directory.appendingPathComponent(problemFile).standardizedFileURL.path
        return line > 0 ? "\(path):\(line): " : "\(path): "
    }
}

extension BrokenInput {
    /// A run config with one axis `persona` taken from `source`, and one step using it.
    static func config(source: String, top: String = "", user: String = "Write as {{persona}}") -> String {
        """
        name: broken
        \(top)axes:
          - name: persona
            source: \(source)
        steps:
          - name: s
            user: "\(user)"

        """
    }

    /// Every broken input of the catalogue. Line numbers refer to `config(...)` above.
    public static let catalogue: [BrokenInput] = [
        BrokenInput(
            "invalid UTF-8 in a persona file",
            files: ["run.yaml": .text(config(source: "{file: personas.txt}")), "personas.txt": .bytes(Array("a nurse\na caf".utf8) + [0xE9] + Array("\n".utf8))],
            problemFile: "personas.txt", line: 2, message: "line 2 is not valid UTF-8"
        ),
        BrokenInput(
            "a NUL byte in a persona file",
            files: ["run.yaml": .text(config(source: "{file: personas.jsonl}")), "personas.jsonl": .bytes(Array("{\"persona\": \"a\"}\n{\"persona\": \"b".utf8) + [0] + Array("\"}\n".utf8))],
            problemFile: "personas.jsonl", line: 2, message: "line 2 contains a NUL byte"
        ),
        BrokenInput(
            "an escaped NUL (\\u0000) in a JSONL value",
            files: ["run.yaml": .text(config(source: "{file: personas.jsonl}")), "personas.jsonl": .text("{\"persona\": \"a\\u0000b\"}\n")],
            problemFile: "personas.jsonl", line: 1, message: "contains a NUL character"
        ),
        BrokenInput(
            "a NUL (\\0) in an inline YAML value",
            files: ["run.yaml": .text(config(source: #"{values: ["a\0b"]}"#))],
            line: 4, message: "a value contains a NUL character"
        ),
        BrokenInput(
            "a 100 MB line in a persona file",
            files: ["run.yaml": .text(config(source: "{file: personas.txt}")), "personas.txt": .longLine(before: "a nurse\n", bytes: 100_000_000)],
            problemFile: "personas.txt", line: 2, message: "line 2 is longer than 1 MiB"
        ),
        BrokenInput(
            "a 10 GB persona file",
            files: ["run.yaml": .text(config(source: "{file: personas.jsonl}")), "personas.jsonl": .sparse(10 << 30)],
            line: 3, message: "is 10 GiB; the files of one run config may hold at most 128 MiB in all"
        ),
        BrokenInput(
            "a 10 GB file given as the run config",
            files: ["huge.yaml": .sparse(10 << 30)], config: "huge.yaml", problemFile: "huge.yaml",
            line: 0, message: "the run config is 10 GiB; a run config may be at most 8 MiB"
        ),
        BrokenInput(
            "the run config path is a directory",
            files: ["runs": .directory], config: "runs", problemFile: "runs",
            line: 0, message: "cannot read the run config: it is a directory"
        ),
        BrokenInput(
            "a persona file path that is a directory",
            files: ["run.yaml": .text(config(source: "{file: personas}")), "personas": .directory],
            line: 3, message: "is a directory, not a file"
        ),
        BrokenInput(
            "a template naming an unknown variable",
            files: ["run.yaml": .text(config(source: "{values: [a]}", user: "Write as {{persona}} about {{topc}}"))],
            line: 7, message: "{{topc}} is not defined by any axis or earlier step"
        ),
        BrokenInput(
            "an axis product over 2^63",
            files: ["run.yaml": .text("""
                name: broken
                axes:
                  - name: persona
                    source: {postgres: {table: personas, column: persona, count: 4611686018427387904}}
                  - name: topic
                    source: {values: [a, b, c]}
                steps:
                  - name: s
                    user: "{{persona}} {{topic}}"

                """)],
            line: 2, message: "has more than 2^63 − 1 conditions"
        ),
        BrokenInput(
            "samples × conditions over 2^63",
            files: ["run.yaml": .text(config(source: "{postgres: {table: personas, column: persona, count: 4611686018427387904}}", top: "samples_per_condition: 3\n"))],
            line: 2, message: "exceeds 2^63 − 1; lower samples_per_condition"
        ),
        BrokenInput(
            "a zero shard_size",
            files: ["run.yaml": .text(config(source: "{values: [a]}", top: "shard_size: 0\n"))],
            line: 2, message: "'shard_size' must be at least 1, got 0"
        ),
        BrokenInput(
            "a negative samples_per_condition",
            files: ["run.yaml": .text(config(source: "{values: [a]}", top: "samples_per_condition: -3\n"))],
            line: 2, message: "'samples_per_condition' must be at least 1, got -3"
        ),
        BrokenInput(
            "a wrong YAML type (axes is a string)",
            files: ["run.yaml": .text("name: broken\naxes: persona\nsteps:\n  - name: s\n    user: hi\n")],
            line: 2, message: "'axes' must be a non-empty list"
        ),
        BrokenInput(
            "a wrong YAML type (the config is a list)",
            files: ["run.yaml": .text("- name: broken\n- axes: []\n")],
            line: 1, message: "the run config must be a mapping of keys to values"
        ),
        BrokenInput(
            "a YAML bomb (billion laughs)",
            files: ["run.yaml": .text(billionLaughs(use: "json_schema: {type: object, bomb: *a8}"))],
            // a5 (line 7) is where the expansion passes 1 MiB.
            line: 7, message: "YAML aliases expand the run config by more than 1 MiB"
        ),
        BrokenInput(
            "a YAML bomb in a mapping key",
            files: ["run.yaml": .text(billionLaughs(use: "json_schema: {type: object, *a8 : 1}"))],
            line: 18, message: "a YAML alias (*name) is used in a mapping key"
        ),
    ]

    /// A config whose anchors a0…a8 expand to 10^9 scalars, used once by the step line `use`.
    static func billionLaughs(use: String) -> String {
        var lines = ["name: broken", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...8 {
            lines.append("x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        lines += ["axes:", "  - name: persona", "    source: {values: [a]}", "steps:", "  - name: s", "    user: \"{{persona}}\"", "    output: json", "    " + use, ""]
        return lines.joined(separator: "\n")
    }
}
