import Foundation

/// Loads a run config: the **only** place in `PersonaForgeCore` that reads
/// files. It reads the YAML, the axis files, the demonstration pool and JSON
/// schema files (paths relative to the config file), then checks everything
/// that can be checked without a database — template variables, step order,
/// space size, limit — and throws one ``RunConfigError`` listing every problem.
public struct RunConfigLoader: Sendable {
    private let files: @Sendable (String) throws -> String

    /// Creates a loader that reads the file system.
    public init() {
        files = RunConfigLoader.readFromDisk
    }

    /// Creates a loader that reads files through `files` (given a resolved path, return
    /// its text or throw). Workers use it to load a submitted run from the file
    /// contents stored with it, so they need no access to the submitter's files.
    public init(files: @escaping @Sendable (String) throws -> String) {
        self.files = files
    }

    /// Loads and validates the config at `path`.
    public func load(path: String) throws(RunConfigError) -> LoadedRun {
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try readText(url.path)
        } catch {
            throw RunConfigError(problems: [ConfigProblem(.missingFile, file: path, line: 0, "cannot read the run config: \(error.message)")])
        }
        return try load(yaml: text, file: path, baseDirectory: url.deletingLastPathComponent().path)
    }

    /// Loads and validates config text; relative paths resolve against `baseDirectory`.
    public func load(yaml: String, file: String, baseDirectory: String) throws(RunConfigError) -> LoadedRun {
        let (parsed, parseProblems) = RunConfigParser(file: file, baseDirectory: baseDirectory).parse(yaml)
        var problems = parseProblems
        guard var config = parsed else { throw RunConfigError(problems: problems) }

        // Axis files.
        var axes: [LoadedAxis] = []
        for axis in config.axes {
            switch axis.source {
            case .inline(let values):
                axes.append(LoadedAxis(name: axis.name, config: axis, values: InMemoryAxisValueSource(values), fieldNames: axis.source.fieldNames))
            case .file(let file):
                do {
                    let (values, fileProblems) = AxisFileParser.values(of: try readText(file.resolvedPath), source: file, axis: axis.name)
                    problems += fileProblems
                    axes.append(LoadedAxis(name: axis.name, config: axis, values: InMemoryAxisValueSource(values), fieldNames: file.fields))
                } catch {
                    problems.append(ConfigProblem(.missingFile, file: config.file, line: axis.line, "axis '\(axis.name)': cannot read file '\(file.path)' (resolved to \(file.resolvedPath)): \(error.message); paths are relative to the config file"))
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
            do {
                let (parsedPool, poolProblems) = DemonstrationPool.parse(try readText(settings.resolvedPath), file: settings.resolvedPath)
                problems += poolProblems
                pool = parsedPool
                if poolProblems.isEmpty, settings.count > parsedPool.records.count {
                    problems.append(ConfigProblem(.invalidValue, file: config.file, line: line, "demonstrations: count \(settings.count) is more than the \(parsedPool.records.count) records in '\(settings.path)'; lower count or add demonstrations"))
                }
            } catch {
                problems.append(ConfigProblem(.missingFile, file: config.file, line: line, "demonstrations: cannot read file '\(settings.path)' (resolved to \(settings.resolvedPath)): \(error.message)"))
            }
        }

        // JSON schema files.
        for index in config.steps.indices {
            guard let schemaPath = config.steps[index].jsonSchemaFile else { continue }
            let step = config.steps[index]
            do {
                let text = try readText(schemaPath)
                if case .object? = JSONValue.parse(text) {
                    config.steps[index].jsonSchema = JSONValue.parse(text)
                } else {
                    problems.append(ConfigProblem(.invalidSchema, file: schemaPath, line: 0, "step '\(step.name)': the JSON schema file is not a JSON object"))
                }
            } catch {
                problems.append(ConfigProblem(.missingFile, file: config.file, line: step.userLine, "step '\(step.name)': cannot read json_schema_file \(schemaPath): \(error.message)"))
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

    private struct ReadError: Error {
        let message: String
    }

    /// Reads a UTF-8 text file. The single file-reading primitive of the core.
    private func readText(_ path: String) throws(ReadError) -> String {
        do {
            return try files(path)
        } catch let error as ReadError {
            throw error
        } catch {
            throw ReadError(message: "\(error)")
        }
    }

    @Sendable private static func readFromDisk(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(message: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(message: "not readable") }
        guard let text = String(data: data, encoding: .utf8) else { throw ReadError(message: "not UTF-8 text") }
        return text
    }
}
