import Foundation

/// Loads a run config: the **only** place in `PersonaForgeCore` that reads files
/// (through ``TextFileReader``). It reads the YAML, the axis files, the
/// demonstration pool and JSON schema files (paths relative to the config file),
/// within ``InputLimits``, then checks everything that can be checked without a
/// database — template variables, step order, space size, limit — and throws one
/// ``RunConfigError`` listing every problem.
public struct RunConfigLoader: Sendable {
    /// How much a config may make the loader read.
    public let limits: InputLimits
    private let source: Source

    private enum Source: Sendable {
        /// The file system; `record` sees every file read besides the config.
        case disk(record: (@Sendable (_ path: String, _ text: String) -> Void)?)
        /// Files handed over by the caller.
        case files(@Sendable (String) throws -> String)
    }

    /// Creates a loader that reads the file system.
    public init(limits: InputLimits = .standard) {
        self.limits = limits
        source = .disk(record: nil)
    }

    /// Creates a loader that reads the file system and hands each file the config
    /// references (not the config itself) to `record` with its text: `submit`
    /// stores them with the run.
    public init(limits: InputLimits = .standard, recording record: @escaping @Sendable (_ path: String, _ text: String) -> Void) {
        self.limits = limits
        source = .disk(record: record)
    }

    /// Creates a loader that reads files through `files` (given a resolved path, return
    /// its text or throw). Workers use it to load a submitted run from the file
    /// contents stored with it, so they need no access to the submitter's files.
    /// Those were held to the limits when they were read at submit time, so their
    /// sizes are not checked again (a run stored by an older binary still loads);
    /// values are still checked (NUL characters, YAML aliases).
    public init(limits: InputLimits = .standard, files: @escaping @Sendable (String) throws -> String) {
        self.limits = limits
        source = .files(files)
    }

    /// Loads and validates the config at `path`.
    public func load(path: String) throws(RunConfigError) -> LoadedRun {
        let text = try readConfig(atPath: path)
        return try load(yaml: text, file: path, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// The text of the run config at `path`, refused with a problem naming the file
    /// when it is missing, a directory, larger than ``InputLimits/configBytes`` or
    /// not UTF-8 text.
    public func readConfig(atPath path: String) throws(RunConfigError) -> String {
        let failure: TextFileReader.Failure
        do {
            return try read(path, budget: limits.configBytes, lineLimit: nil, record: false)
        } catch {
            failure = error
        }
        let problem: ConfigProblem
        switch failure {
        case .missing:
            problem = ConfigProblem(.missingFile, file: path, line: 0, "cannot read the run config: no such file")
        case .directory:
            problem = ConfigProblem(.missingFile, file: path, line: 0, "cannot read the run config: it is a directory; give the path of a YAML file, e.g. config/demo-questions.yaml")
        case .unreadable(let reason):
            problem = ConfigProblem(.missingFile, file: path, line: 0, "cannot read the run config: \(reason)")
        case .tooLarge(let size):
            problem = ConfigProblem(.tooLarge, file: path, line: 0, "the run config is \(Self.sizeText(size, limit: limits.configBytes)); a run config may be at most \(InputLimits.describe(bytes: limits.configBytes)): put long lists of values in an axis file (source: {file: ...})")
        case .lineTooLong(let line):
            problem = ConfigProblem(.tooLarge, file: path, line: line, "line \(line) is too long")
        case .nulByte(let line):
            problem = ConfigProblem(.notText, file: path, line: line, "line \(line) contains a NUL byte: the run config must be a UTF-8 text file (is this the right file?)")
        case .invalidUTF8(let line):
            problem = ConfigProblem(.notText, file: path, line: line, "line \(line) is not valid UTF-8: save the run config as UTF-8")
        }
        throw RunConfigError(problems: [problem])
    }

    /// Loads and validates config text; relative paths resolve against `baseDirectory`.
    public func load(yaml: String, file: String, baseDirectory: String) throws(RunConfigError) -> LoadedRun {
        let (parsed, parseProblems) = RunConfigParser(file: file, baseDirectory: baseDirectory, limits: limits).parse(yaml)
        var problems = parseProblems
        guard var config = parsed else { throw RunConfigError(problems: problems) }
        // Every file the config names comes out of one budget.
        var budget = limits.fileBytes
        func readFile(_ what: String, _ path: String, resolvedPath: String, line: Int, lineLimit: Int?, suggestion: String = "") -> String? {
            do {
                let text = try read(resolvedPath, budget: budget, lineLimit: lineLimit, record: true)
                budget -= text.utf8.count
                return text
            } catch {
                problems.append(fileProblem(error, what: what, path: path, resolvedPath: resolvedPath, file: config.file, line: line, budget: budget, suggestion: suggestion))
                return nil
            }
        }

        // Axis files.
        var axes: [LoadedAxis] = []
        for axis in config.axes {
            switch axis.source {
            case .inline(let values):
                axes.append(LoadedAxis(name: axis.name, config: axis, values: InMemoryAxisValueSource(values), fieldNames: axis.source.fieldNames))
            case .file(let file):
                let suggestion = "; serve a larger axis from a PostgreSQL table (source: {postgres: ...})"
                if let text = readFile("axis '\(axis.name)'", file.path, resolvedPath: file.resolvedPath, line: axis.line, lineLimit: limits.lineBytes, suggestion: suggestion) {
                    let (values, fileProblems) = AxisFileParser.values(of: text, source: file, axis: axis.name)
                    problems += fileProblems
                    axes.append(LoadedAxis(name: axis.name, config: axis, values: InMemoryAxisValueSource(values), fieldNames: file.fields))
                } else {
                    axes.append(LoadedAxis(name: axis.name, config: axis, values: nil, fieldNames: file.fields))
                }
            case .postgres(let table):
                axes.append(LoadedAxis(name: axis.name, config: axis, values: nil, fieldNames: table.fields))
            }
        }

        // Demonstrations.
        var pool: DemonstrationPool?
        if let settings = config.demonstrations {
            let line = config.lines["demonstrations"] ?? 0
            if let text = readFile("demonstrations", settings.path, resolvedPath: settings.resolvedPath, line: line, lineLimit: limits.lineBytes) {
                let (parsedPool, poolProblems) = DemonstrationPool.parse(text, file: settings.resolvedPath)
                problems += poolProblems
                pool = parsedPool
                if poolProblems.isEmpty, settings.count > parsedPool.records.count {
                    problems.append(ConfigProblem(.invalidValue, file: config.file, line: line, "demonstrations: count \(settings.count) is more than the \(parsedPool.records.count) records in '\(settings.path)'; lower count or add demonstrations"))
                }
            }
        }

        // JSON schema files.
        for index in config.steps.indices {
            guard let schemaPath = config.steps[index].jsonSchemaFile else { continue }
            let step = config.steps[index]
            guard let text = readFile("step '\(step.name)': json_schema_file", schemaPath, resolvedPath: schemaPath, line: step.userLine, lineLimit: nil) else { continue }
            if case .object? = JSONValue.parse(text) {
                config.steps[index].jsonSchema = JSONValue.parse(text)
            } else {
                problems.append(ConfigProblem(.invalidSchema, file: schemaPath, line: 0, "step '\(step.name)': the JSON schema file is not a JSON object"))
            }
        }

        problems += RunValidator(config: config, axes: axes, demonstrations: pool).problems()

        let renderer: PromptRenderer
        do {
            renderer = try PromptRenderer(steps: config.steps, demonstrations: pool, demonstrationCount: config.demonstrations?.count ?? 0, seed: config.seed)
        } catch {
            // Syntax errors were reported by the validator with config lines.
            throw RunConfigError(problems: problems.isEmpty ? [ConfigProblem(.templateSyntax, file: config.file, line: error.line, error.message)] : problems)
        }
        guard problems.isEmpty else { throw RunConfigError(problems: problems) }
        return LoadedRun(config: config, axes: axes, renderer: renderer)
    }

    /// Reads one file through the loader's source, within `budget` bytes.
    private func read(_ path: String, budget: Int, lineLimit: Int?, record: Bool) throws(TextFileReader.Failure) -> String {
        switch source {
        case .disk(let recorder):
            let text = try TextFileReader.read(path, budget: budget, lineLimit: lineLimit)
            if record { recorder?(path, text) }
            return text
        case .files(let files):
            do {
                return try files(path)
            } catch {
                throw .unreadable("\(error)")
            }
        }
    }

    /// The problem for a file the config names that could not be used. Problems in
    /// the file's content point at the file and line; the others at the config line
    /// that names it.
    private func fileProblem(
        _ failure: TextFileReader.Failure, what: String, path: String, resolvedPath: String, file: String, line: Int, budget: Int, suggestion: String
    ) -> ConfigProblem {
        let named = "'\(path)' (resolved to \(resolvedPath))"
        switch failure {
        case .missing:
            return ConfigProblem(.missingFile, file: file, line: line, "\(what): cannot read file \(named): no such file; paths are relative to the config file")
        case .directory:
            return ConfigProblem(.missingFile, file: file, line: line, "\(what): \(named) is a directory, not a file")
        case .unreadable(let reason):
            return ConfigProblem(.missingFile, file: file, line: line, "\(what): cannot read file \(named): \(reason)")
        case .tooLarge(let size):
            let left = budget < limits.fileBytes ? " (\(InputLimits.describe(bytes: budget)) left after the other files)" : ""
            return ConfigProblem(.tooLarge, file: file, line: line, "\(what): \(named) is \(Self.sizeText(size, limit: budget)); the files of one run config may hold at most \(InputLimits.describe(bytes: limits.fileBytes)) in all\(left), because they are stored with the run\(suggestion)")
        case .lineTooLong(let number):
            return ConfigProblem(.tooLarge, file: resolvedPath, line: number, "\(what): line \(number) is longer than \(InputLimits.describe(bytes: limits.lineBytes)); a line holds one value (is this the right file?)")
        case .nulByte(let number):
            return ConfigProblem(.notText, file: resolvedPath, line: number, "\(what): line \(number) contains a NUL byte: this is a binary file, not UTF-8 text (is this the right file?)")
        case .invalidUTF8(let number):
            return ConfigProblem(.notText, file: resolvedPath, line: number, "\(what): line \(number) is not valid UTF-8: convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)")
        }
    }

    /// "10 GiB" from `stat`, or "more than 1 MiB" when the size was found while reading.
    private static func sizeText(_ size: Int?, limit: Int) -> String {
        size.map { InputLimits.describe(bytes: $0) } ?? "more than \(InputLimits.describe(bytes: limit))"
    }
}
