/// One problem found while loading a run config, with where it is and how to fix it.
public struct ConfigProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kind of problem, for programmatic handling and tests.
    public enum Code: String, Sendable, Hashable, Codable {
        case yamlSyntax
        case unknownKey
        case duplicateKey
        case missingKey
        case wrongType
        case invalidValue
        case secretInConfig
        case missingFile
        case invalidJSONLine
        case missingField
        case emptyAxis
        case duplicateName
        case reservedName
        case overflow
        case invalidLimit
        case invalidSize
        case templateSyntax
        case undefinedVariable
        case laterStepReference
        case unsupportedTemplateFeature
        case invalidSchema
        case invalidPattern
        /// A file or line over ``InputLimits``.
        case tooLarge
        /// Not text: invalid UTF-8 or a NUL byte.
        case notText
        /// An explicit key, an alias in a key, or aliases that expand too far.
        case yamlAliases
    }

    /// The kind of problem.
    public var code: Code
    /// The file the problem is in (the config file, or an axis/demo/schema file).
    public var file: String
    /// 1-based line in `file`, or 0 when unknown.
    public var line: Int
    /// What is wrong and what to do about it.
    public var message: String

    /// Creates a problem.
    public init(_ code: Code, file: String, line: Int, _ message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the format compilers use.
    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}

/// Thrown when a run config is invalid; carries *every* problem found, sorted by file and line.
public struct RunConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// All problems, in file then line order.
    public let problems: [ConfigProblem]

    /// Creates an error from problems (sorted stably by file and line).
    public init(problems: [ConfigProblem]) {
        self.problems = problems.enumerated().sorted {
            ($0.element.file, $0.element.line, $0.offset) < ($1.element.file, $1.element.line, $1.offset)
        }.map(\.element)
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
