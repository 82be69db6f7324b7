import Foundation
import Yams

/// Parses run config YAML into a ``RunConfig``, collecting every problem with
/// its line. Pure: it reads no files (``RunConfigLoader`` reads the files the
/// config names) and resolves relative paths against `baseDirectory`.
public struct RunConfigParser: Sendable {
    /// The config's path, used in messages.
    public let file: String
    /// Directory that relative paths in the config are resolved against.
    public let baseDirectory: String
    /// Bounds what YAML aliases may add (``InputLimits/aliasBytes``).
    public let limits: InputLimits

    static let topLevelKeys = [
        "name", "description", "seed", "samples_per_condition", "limit", "shard_size",
        "axes", "model", "demonstrations", "steps", "filters", "dedup", "budget",
    ]
    static let reservedNames: Set<String> = ["steps", "demos", "sample_index"]

    /// Creates a parser for the config at `file`.
    public init(file: String, baseDirectory: String, limits: InputLimits = .standard) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.limits = limits
    }

    /// Parses `yaml`. Returns a best-effort config (defaults where something was
    /// wrong, so later checks can still run) and every problem found; the
    /// config is nil only when the text is not a YAML mapping at all.
    public func parse(_ yaml: String) -> (config: RunConfig?, problems: [ConfigProblem]) {
        var reader = ConfigNodeReader(file: file)
        // Aliases in keys would be expanded while composing: refused from the text.
        switch YAMLAliasGuard.complexKey(in: yaml) {
        case .explicitKey(let line):
            reader.report(.yamlAliases, line: line, "explicit mapping keys ('? key') are not used in a run config; write 'key: value'")
            return (nil, reader.problems)
        case .aliasInKey(let line):
            reader.report(.yamlAliases, line: line, "a YAML alias (*name) is used in a mapping key; keys in a run config are plain names")
            return (nil, reader.problems)
        case nil:
            break
        }
        let root: Node
        do {
            let parser = try Parser(yaml: yaml)
            guard let node = try parser.singleRoot() else {
                reader.report(.missingKey, line: 1, "the run config is empty; start from an example in config/")
                return (nil, reader.problems)
            }
            // The parser owns the anchors that tell an alias from the node it names.
            let expansion = withExtendedLifetime(parser) { YAMLAliasGuard.expansion(of: node, limits: limits) }
            if let expansion {
                let alias = expansion.anchor.isEmpty ? "" : " (alias *\(expansion.anchor) here)"
                if expansion.depth > YAMLAliasGuard.maxDepth {
                    reader.report(.yamlAliases, line: expansion.line, "with its YAML aliases expanded the run config nests more than \(YAMLAliasGuard.maxDepth) levels deep\(alias); write the values out")
                } else {
                    reader.report(.yamlAliases, line: expansion.line, "YAML aliases expand the run config by more than \(InputLimits.describe(bytes: limits.aliasBytes))\(alias), as a YAML bomb does; write the values out or put them in an axis file")
                }
                return (nil, reader.problems)
            }
            root = node
        } catch let error as YamlError {
            reader.report(.yamlSyntax, line: Self.line(of: error), "not valid YAML: \(Self.summary(of: error))")
            return (nil, reader.problems)
        } catch {
            reader.report(.yamlSyntax, line: 0, "not valid YAML: \(error)")
            return (nil, reader.problems)
        }
        guard let top = reader.mapping(root, context: "the run config", allowed: Self.topLevelKeys, required: ["name", "axes", "steps"]) else {
            return (nil, reader.problems)
        }

        var lines: [String: Int] = [:]
        for key in top.entries.keys { lines[key] = top.line(of: key) }

        let name = reader.string(top, "name") ?? ""
        if top.has("name"), !Self.isValidRunName(name) {
            reader.report(.invalidValue, line: top.line(of: "name"), "run name '\(name)' may use only letters, digits, '-', '_' and '.' (it appears in keys and file names)")
        }
        let seed = reader.uint64(top, "seed") ?? 0
        let samplesPerCondition = reader.int(top, "samples_per_condition", minimum: 1) ?? 1
        let limit = reader.int(top, "limit", minimum: 1, hint: "; omit limit to take the whole space")
        let shardSize = reader.int(top, "shard_size", minimum: 1, hint: "; 50–1000 sample positions per shard is typical")
        if let shardSize, shardSize > 1_000_000 {
            reader.report(.invalidValue, line: top.line(of: "shard_size"), "shard_size \(shardSize) is too large: a shard is one worker's unit of work and is redone whole if the worker dies; use at most 1000000")
        }

        let axes = top["axes"].map { parseAxes($0, reader: &reader) } ?? []
        let model = top["model"].map { parseModel($0, reader: &reader) } ?? ModelSettings()
        let demonstrations = top["demonstrations"].flatMap { parseDemonstrations($0, reader: &reader) }
        let steps = top["steps"].map { parseSteps($0, reader: &reader) } ?? []
        let filters = top["filters"].map { parseFilters($0, reader: &reader) } ?? FilterSettings()
        let dedup = top["dedup"].map { parseDedup($0, reader: &reader) } ?? DedupSettings()
        if model.samplesPerRequest > 1, model.samplesPerRequest > samplesPerCondition {
            reader.report(.invalidValue, line: top.line(of: "model"), "model: n \(model.samplesPerRequest) asks for more samples per request than samples_per_condition (\(samplesPerCondition)) makes of one condition; raise samples_per_condition or lower n")
        }
        let budget = top["budget"].map { parseBudget($0, model: model, line: top.line(of: "budget"), reader: &reader) } ?? BudgetSettings()

        let config = RunConfig(
            name: name,
            description: reader.string(top, "description"),
            seed: seed,
            samplesPerCondition: samplesPerCondition,
            limit: limit,
            shardSize: shardSize ?? 100,
            axes: axes,
            model: model,
            demonstrations: demonstrations,
            steps: steps,
            filters: filters,
            dedup: dedup,
            budget: budget,
            file: file,
            lines: lines
        )
        return (config, reader.problems)
    }

    // MARK: Axes

    private func parseAxes(_ node: Node, reader: inout ConfigNodeReader) -> [AxisConfig] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            reader.report(.wrongType, line: ConfigNodeReader.line(node), "'axes' must be a non-empty list of axes, e.g. axes: [{name: persona, source: {file: data/personas-sample.jsonl, field: persona}}]")
            return []
        }
        var axes: [AxisConfig] = []
        var firstLine: [String: Int] = [:]
        for (offset, item) in sequence.enumerated() {
            guard let fields = reader.mapping(item, context: "axis \(offset + 1)", allowed: ["name", "source"], required: ["name", "source"]) else { continue }
            guard let name = reader.string(fields, "name") else { continue }
            let line = fields.line(of: "name")
            reader.checkIdentifier(name, line: line, what: "axis")
            if Self.reservedNames.contains(name) {
                reader.report(.reservedName, line: line, "axis name '\(name)' is reserved for templates ({{steps.NAME}}, {{#demos}}, {{sample_index}}); rename the axis")
            }
            if let first = firstLine[name] {
                reader.report(.duplicateName, line: line, "axis '\(name)' is declared twice (first on line \(first)); axis names must be unique")
                continue
            }
            firstLine[name] = line
            guard let sourceNode = fields["source"], let source = parseAxisSource(sourceNode, axis: name, reader: &reader) else { continue }
            axes.append(AxisConfig(name: name, source: source, line: line))
        }
        return axes
    }

    private func parseAxisSource(_ node: Node, axis: String, reader: inout ConfigNodeReader) -> AxisSourceConfig? {
        let context = "source of axis '\(axis)'"
        guard let fields = reader.mapping(node, context: context, allowed: ["values", "file", "format", "field", "fields", "postgres"]) else { return nil }
        let kinds = ["values", "file", "postgres"].filter { fields.has($0) }
        guard kinds.count == 1 else {
            reader.report(
                kinds.isEmpty ? .missingKey : .invalidValue,
                line: fields.line,
                "\(context) needs exactly one of 'values' (inline list), 'file' (JSONL or text file) or 'postgres' (table)\(kinds.isEmpty ? "" : ", found \(kinds.joined(separator: " and "))")"
            )
            return nil
        }
        if kinds[0] != "file" {
            for key in ["format", "field", "fields"] where fields.has(key) {
                reader.report(.invalidValue, line: fields.line(of: key), "\(context): '\(key)' only applies to 'file' sources")
            }
        }
        switch kinds[0] {
        case "values":
            return parseInlineValues(fields["values"]!, axis: axis, reader: &reader).map(AxisSourceConfig.inline)
        case "file":
            guard let path = reader.string(fields, "file") else { return nil }
            let lowered = path.lowercased()
            let inferred: FileAxisSource.Format = [".jsonl", ".ndjson", ".json"].contains { lowered.hasSuffix($0) } ? .jsonl : .text
            let format = reader.enumeration(fields, "format", as: FileAxisSource.Format.self) ?? inferred
            let extra = reader.stringList(fields, "fields") ?? []
            if format == .text, fields.has("field") || !extra.isEmpty {
                reader.report(.invalidValue, line: fields.line(of: "field"), "\(context): 'field' and 'fields' apply to JSONL files; '\(path)' is read as text (one value per line) — set format: jsonl if it is JSONL")
            }
            return .file(FileAxisSource(path: path, resolvedPath: resolve(path), format: format, field: reader.string(fields, "field") ?? axis, fields: extra))
        default:
            return parsePostgres(fields["postgres"]!, axis: axis, reader: &reader).map(AxisSourceConfig.postgres)
        }
    }

    private func parseInlineValues(_ node: Node, axis: String, reader: inout ConfigNodeReader) -> [AxisValue]? {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            reader.report(.emptyAxis, line: ConfigNodeReader.line(node), "axis '\(axis)': 'values' must be a non-empty list, e.g. values: [easy, medium, hard]")
            return nil
        }
        var values: [AxisValue] = []
        var fieldNames: Set<String>?
        for item in sequence {
            if case .scalar(let scalar) = item, scalar.string.utf8.contains(0) {
                reader.report(.notText, line: ConfigNodeReader.line(item), "axis '\(axis)': a value contains a NUL character (\\0), which PostgreSQL cannot store in text; remove it")
                continue
            }
            switch item {
            case .scalar(let scalar):
                values.append(AxisValue(scalar.string))
                if let names = fieldNames, !names.isEmpty {
                    reader.report(.missingField, line: ConfigNodeReader.line(item), "axis '\(axis)': value '\(scalar.string)' has no fields but earlier values have \(names.sorted().joined(separator: ", ")); give every value the same fields")
                }
                fieldNames = fieldNames ?? []
            case .mapping(let mapping):
                var text: String?
                var extra: [String: String] = [:]
                for (key, value) in mapping {
                    let keyName = key.string ?? ""
                    guard case .scalar(let scalar) = value else {
                        reader.report(.wrongType, line: ConfigNodeReader.line(value), "axis '\(axis)': field '\(keyName)' must be a string or number")
                        continue
                    }
                    if scalar.string.utf8.contains(0) {
                        reader.report(.notText, line: ConfigNodeReader.line(value), "axis '\(axis)': field '\(keyName)' contains a NUL character (\\0), which PostgreSQL cannot store in text; remove it")
                        continue
                    }
                    if keyName == "value" { text = scalar.string } else {
                        reader.checkIdentifier(keyName, line: ConfigNodeReader.line(key), what: "field")
                        extra[keyName] = scalar.string
                    }
                }
                guard let text else {
                    reader.report(.missingKey, line: ConfigNodeReader.line(item), "axis '\(axis)': a value written as a mapping needs 'value:' (the text), other keys become fields")
                    continue
                }
                let names = Set(extra.keys)
                if let expected = fieldNames, expected != names {
                    reader.report(.missingField, line: ConfigNodeReader.line(item), "axis '\(axis)': value '\(text)' has fields [\(names.sorted().joined(separator: ", "))] but earlier values have [\(expected.sorted().joined(separator: ", "))]; give every value the same fields")
                }
                fieldNames = fieldNames ?? names
                values.append(AxisValue(text, fields: extra))
            default:
                reader.report(.wrongType, line: ConfigNodeReader.line(item), "axis '\(axis)': each value must be a string or a mapping with 'value:'")
            }
        }
        return values
    }

    private func parsePostgres(_ node: Node, axis: String, reader: inout ConfigNodeReader) -> PostgresAxisSource? {
        let context = "postgres source of axis '\(axis)'"
        guard let fields = reader.mapping(node, context: context, allowed: ["table", "column", "id_column", "order_by", "fields", "count"], required: ["table", "column"]) else { return nil }
        guard let table = reader.string(fields, "table"), let column = reader.string(fields, "column") else { return nil }
        let idColumn = reader.string(fields, "id_column") ?? "id"
        let extra = reader.stringList(fields, "fields") ?? []
        for (key, value) in [("table", table), ("column", column), ("id_column", idColumn)] + extra.map({ ("fields", $0) }) {
            let parts = value.split(separator: ".", omittingEmptySubsequences: false)
            let isIdentifier = (1...(key == "table" ? 2 : 1)).contains(parts.count) && parts.allSatisfy { part in
                part.first.map { $0.isLetter || $0 == "_" } == true && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            }
            if !isIdentifier {
                reader.report(.invalidValue, line: fields.line(of: key), "\(context): '\(key)' value '\(value)' must be a plain SQL identifier\(key == "table" ? " (optionally schema.table)" : "")")
            }
        }
        let orderBy = reader.string(fields, "order_by")
        if let orderBy, orderBy.range(of: #"^[A-Za-z_][A-Za-z0-9_]*( (?i:asc|desc))?(, *[A-Za-z_][A-Za-z0-9_]*( (?i:asc|desc))?)*$"#, options: .regularExpression) == nil {
            reader.report(.invalidValue, line: fields.line(of: "order_by"), "\(context): order_by must be column names with optional ASC/DESC, e.g. 'created_at, id'")
        }
        return PostgresAxisSource(
            table: table, column: column, idColumn: idColumn, orderBy: orderBy, fields: extra,
            count: reader.int(fields, "count", minimum: 1)
        )
    }

    // MARK: Model, demonstrations, steps

    private func parseModel(_ node: Node, reader: inout ConfigNodeReader) -> ModelSettings {
        let allowed = [
            "base_url", "name", "api", "api_key_env", "api_key_file", "temperature", "top_p", "max_tokens", "timeout_seconds",
            "requests_per_minute", "tokens_per_minute", "endpoints", "price_per_million_prompt_tokens", "price_per_million_completion_tokens", "n",
        ]
        guard let fields = reader.mapping(node, context: "model", allowed: allowed) else { return ModelSettings() }
        var model = ModelSettings()
        if let url = reader.string(fields, "base_url"), checkBaseURL(url, context: "model", line: fields.line(of: "base_url"), reader: &reader) {
            model.baseURL = url
        }
        model.name = reader.string(fields, "name") ?? model.name
        model.api = reader.enumeration(fields, "api", as: ModelSettings.API.self) ?? model.api
        model.apiKeyEnvironmentVariable = checkKeyVariable(reader.string(fields, "api_key_env"), context: "model", line: fields.line(of: "api_key_env"), reader: &reader)
        model.requestsPerMinute = reader.double(fields, "requests_per_minute", range: 0.1...1e9)
        model.tokensPerMinute = reader.double(fields, "tokens_per_minute", range: 1...1e12)
        model.samplesPerRequest = reader.int(fields, "n", minimum: 1, hint: "; n is how many samples one request asks for") ?? 1
        if model.samplesPerRequest > 128 {
            reader.report(.invalidValue, line: fields.line(of: "n"), "model: n \(model.samplesPerRequest) is too large: servers cap choices per request (OpenAI at 128); use at most 128")
        }
        model.promptPrice = reader.double(fields, "price_per_million_prompt_tokens", range: 0...1e9)
        model.completionPrice = reader.double(fields, "price_per_million_completion_tokens", range: 0...1e9)
        if let node = fields["endpoints"], !ConfigNodeReader.isNull(node) {
            model.endpoints = parseEndpoints(node, reader: &reader)
            if fields["base_url"] != nil {
                reader.report(.invalidValue, line: fields.line(of: "endpoints"), "model: give either base_url or endpoints, not both (endpoints lists every server, each with its base_url)")
            }
        }
        model.apiKeyFile = reader.string(fields, "api_key_file").map(resolve)
        if model.apiKeyEnvironmentVariable != nil, model.apiKeyFile != nil {
            reader.report(.invalidValue, line: fields.line(of: "api_key_file"), "model: give either api_key_env or api_key_file, not both")
        }
        model.temperature = reader.double(fields, "temperature", range: 0...2) ?? model.temperature
        model.topP = reader.double(fields, "top_p", range: 0...1) ?? model.topP
        model.maxTokens = reader.int(fields, "max_tokens", minimum: 1) ?? model.maxTokens
        model.timeoutSeconds = reader.double(fields, "timeout_seconds", range: 0.1...3600) ?? model.timeoutSeconds
        return model
    }

    /// `budget:`: at least one rule; `max_cost` only where every endpoint has a price.
    private func parseBudget(_ node: Node, model: ModelSettings, line: Int, reader: inout ConfigNodeReader) -> BudgetSettings {
        guard let fields = reader.mapping(node, context: "budget", allowed: ["target_kept", "max_tokens", "max_cost"]) else { return BudgetSettings() }
        let budget = BudgetSettings(
            targetKept: reader.int(fields, "target_kept", minimum: 1),
            maxTokens: reader.int(fields, "max_tokens", minimum: 1),
            maxCost: reader.double(fields, "max_cost", range: 1e-9...1e15)
        )
        if budget.isEmpty, fields.entries.isEmpty {
            reader.report(.invalidValue, line: line, "budget: give at least one of target_kept, max_tokens, max_cost")
        }
        if budget.maxCost != nil {
            let unpriced = model.pool.filter { $0.promptPrice == nil && $0.completionPrice == nil }.map(\.name)
            if !unpriced.isEmpty {
                reader.report(.invalidValue, line: fields.line(of: "max_cost"), "budget: max_cost needs prices: set model.price_per_million_prompt_tokens and price_per_million_completion_tokens (or each endpoint's); no price for \(unpriced.joined(separator: ", "))")
            }
        }
        return budget
    }

    /// Whether `url` is an http(s) URL with a host and no credentials (reported if not).
    private func checkBaseURL(_ url: String, context: String, line: Int, reader: inout ConfigNodeReader) -> Bool {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""), components.host?.isEmpty == false else {
            reader.report(.invalidValue, line: line, "\(context): base_url '\(url)' must be an http(s) URL such as http://127.0.0.1:8088/v1")
            return false
        }
        guard components.user == nil, components.password == nil else {
            reader.report(.secretInConfig, line: line, "\(context): base_url must not carry credentials; use api_key_env or api_key_file")
            return false
        }
        return true
    }

    /// `variable` if it names an environment variable (a key pasted in its place is reported and dropped).
    private func checkKeyVariable(_ variable: String?, context: String, line: Int, reader: inout ConfigNodeReader) -> String? {
        guard let variable else { return nil }
        guard variable.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil else {
            reader.report(.secretInConfig, line: line, "\(context): api_key_env must be the *name* of an environment variable (like OPENAI_API_KEY), not the key itself")
            return nil
        }
        return variable
    }

    /// `model.endpoints`: a non-empty list of servers, unique names, at least one with a weight.
    private func parseEndpoints(_ node: Node, reader: inout ConfigNodeReader) -> [ModelSettings.Endpoint] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            reader.report(.wrongType, line: ConfigNodeReader.line(node), "model: endpoints must be a non-empty list, each item with a base_url")
            return []
        }
        let allowed = [
            "base_url", "weight", "name", "model", "api_key_env", "requests_per_minute", "tokens_per_minute",
            "price_per_million_prompt_tokens", "price_per_million_completion_tokens",
        ]
        var endpoints: [ModelSettings.Endpoint] = []
        var firstLine: [String: Int] = [:]
        for (offset, item) in sequence.enumerated() {
            let context = "model: endpoint \(offset + 1)"
            guard let fields = reader.mapping(item, context: context, allowed: allowed, required: ["base_url"]),
                  let url = reader.string(fields, "base_url"),
                  checkBaseURL(url, context: context, line: fields.line(of: "base_url"), reader: &reader)
            else { continue }
            let endpoint = ModelSettings.Endpoint(
                baseURL: url, weight: reader.double(fields, "weight", range: 0...1e6) ?? 1, name: reader.string(fields, "name"),
                model: reader.string(fields, "model"),
                apiKeyEnvironmentVariable: checkKeyVariable(reader.string(fields, "api_key_env"), context: context, line: fields.line(of: "api_key_env"), reader: &reader),
                requestsPerMinute: reader.double(fields, "requests_per_minute", range: 0.1...1e9),
                tokensPerMinute: reader.double(fields, "tokens_per_minute", range: 1...1e12),
                promptPrice: reader.double(fields, "price_per_million_prompt_tokens", range: 0...1e9),
                completionPrice: reader.double(fields, "price_per_million_completion_tokens", range: 0...1e9)
            )
            let line = fields.line(of: "base_url")
            if let first = firstLine[endpoint.name] {
                reader.report(.duplicateName, line: line, "\(context): the name '\(endpoint.name)' is taken by the endpoint on line \(first); give each endpoint its own name")
            }
            firstLine[endpoint.name] = firstLine[endpoint.name] ?? line
            endpoints.append(endpoint)
        }
        if !endpoints.isEmpty, !endpoints.contains(where: { $0.weight > 0 }) {
            reader.report(.invalidValue, line: ConfigNodeReader.line(node), "model: every endpoint has weight 0 (a fallback); give at least one a weight above 0")
        }
        return endpoints
    }

    private func parseDemonstrations(_ node: Node, reader: inout ConfigNodeReader) -> DemonstrationSettings? {
        guard let fields = reader.mapping(node, context: "demonstrations", allowed: ["file", "count"], required: ["file"]) else { return nil }
        guard let path = reader.string(fields, "file") else { return nil }
        return DemonstrationSettings(path: path, resolvedPath: resolve(path), count: reader.int(fields, "count", minimum: 1) ?? 2)
    }

    private func parseSteps(_ node: Node, reader: inout ConfigNodeReader) -> [StepConfig] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            reader.report(.wrongType, line: ConfigNodeReader.line(node), "'steps' must be a non-empty list of steps, each with 'name' and 'user'")
            return []
        }
        let allowed = ["name", "system", "user", "output", "json_schema", "json_schema_file", "max_tokens", "temperature", "stop"]
        var steps: [StepConfig] = []
        var firstLine: [String: Int] = [:]
        for (offset, item) in sequence.enumerated() {
            guard let fields = reader.mapping(item, context: "step \(offset + 1)", allowed: allowed, required: ["name", "user"]) else { continue }
            let name = reader.string(fields, "name") ?? "step\(offset + 1)"
            let line = fields.line(of: "name")
            reader.checkIdentifier(name, line: line, what: "step")
            if let first = firstLine[name] {
                reader.report(.duplicateName, line: line, "step '\(name)' is declared twice (first on line \(first)); step names must be unique")
            }
            firstLine[name] = firstLine[name] ?? line
            let output = reader.enumeration(fields, "output", as: StepConfig.OutputFormat.self) ?? .text
            var schema: JSONValue?
            if let schemaNode = fields["json_schema"], !ConfigNodeReader.isNull(schemaNode) {
                schema = ConfigNodeReader.json(from: schemaNode)
                if case .object = schema {} else {
                    reader.report(.invalidSchema, line: ConfigNodeReader.line(schemaNode), "step '\(name)': json_schema must be a mapping (a JSON schema object)")
                }
            }
            let schemaFile = reader.string(fields, "json_schema_file")
            if schema != nil, schemaFile != nil {
                reader.report(.invalidValue, line: fields.line(of: "json_schema_file"), "step '\(name)': give either json_schema or json_schema_file, not both")
            }
            if output != .json, schema != nil || schemaFile != nil {
                reader.report(.invalidValue, line: fields.line(of: "output"), "step '\(name)': a JSON schema needs 'output: json'")
            }
            steps.append(StepConfig(
                name: name,
                system: reader.string(fields, "system"),
                user: reader.string(fields, "user") ?? "",
                output: output,
                jsonSchema: schema,
                jsonSchemaFile: schemaFile.map(resolve),
                maxTokens: reader.int(fields, "max_tokens", minimum: 1),
                temperature: reader.double(fields, "temperature", range: 0...2),
                stop: reader.stringList(fields, "stop") ?? [],
                systemLine: fields["system"].map(Self.textStartLine) ?? line,
                userLine: fields["user"].map(Self.textStartLine) ?? line
            ))
        }
        return steps
    }

    // MARK: Filters and dedup

    private func parseFilters(_ node: Node, reader: inout ConfigNodeReader) -> FilterSettings {
        let allowed = [
            "min_chars", "max_chars", "min_words", "max_words", "reject_refusals", "max_repeated_ngram_ratio",
            "repetition_ngram", "required_patterns", "forbidden_patterns", "reject_finish_reasons",
        ]
        guard let fields = reader.mapping(node, context: "filters", allowed: allowed) else { return FilterSettings() }
        var filters = FilterSettings()
        filters.minCharacters = reader.int(fields, "min_chars", minimum: 0) ?? filters.minCharacters
        filters.maxCharacters = reader.int(fields, "max_chars", minimum: 1)
        filters.minWords = reader.int(fields, "min_words", minimum: 0)
        filters.maxWords = reader.int(fields, "max_words", minimum: 1)
        if let low = filters.maxCharacters, low < filters.minCharacters {
            reader.report(.invalidValue, line: fields.line(of: "max_chars"), "filters: max_chars \(low) is below min_chars \(filters.minCharacters)")
        }
        if let low = filters.maxWords, let high = filters.minWords, low < high {
            reader.report(.invalidValue, line: fields.line(of: "max_words"), "filters: max_words \(low) is below min_words \(high)")
        }
        filters.rejectRefusals = reader.bool(fields, "reject_refusals") ?? filters.rejectRefusals
        if fields.has("max_repeated_ngram_ratio") {
            filters.maxRepeatedNgramRatio = reader.double(fields, "max_repeated_ngram_ratio", range: 0...1)
        } else if fields.entries["max_repeated_ngram_ratio"] != nil {
            filters.maxRepeatedNgramRatio = nil  // explicit null disables the check
        }
        filters.repetitionNgram = reader.int(fields, "repetition_ngram", minimum: 1) ?? filters.repetitionNgram
        for key in ["required_patterns", "forbidden_patterns"] {
            let patterns = reader.stringList(fields, key) ?? []
            for pattern in patterns where (try? NSRegularExpression(pattern: pattern)) == nil {
                reader.report(.invalidPattern, line: fields.line(of: key), "filters: '\(pattern)' in \(key) is not a valid regular expression")
            }
            if key == "required_patterns" { filters.requiredPatterns = patterns } else { filters.forbiddenPatterns = patterns }
        }
        filters.rejectFinishReasons = reader.stringList(fields, "reject_finish_reasons") ?? filters.rejectFinishReasons
        return filters
    }

    private func parseDedup(_ node: Node, reader: inout ConfigNodeReader) -> DedupSettings {
        guard let fields = reader.mapping(node, context: "dedup", allowed: ["enabled", "threshold", "ngram", "permutations", "seed", "step", "scope"]) else { return DedupSettings() }
        var dedup = DedupSettings()
        dedup.enabled = reader.bool(fields, "enabled") ?? dedup.enabled
        dedup.threshold = reader.double(fields, "threshold", range: 0.01...1) ?? dedup.threshold
        dedup.ngram = reader.int(fields, "ngram", minimum: 1) ?? dedup.ngram
        dedup.permutations = reader.int(fields, "permutations", minimum: 1) ?? dedup.permutations
        if dedup.permutations > 1024 {
            reader.report(.invalidValue, line: fields.line(of: "permutations"), "dedup: permutations \(dedup.permutations) is more than 1024; 64–256 is typical")
        }
        dedup.seed = reader.uint64(fields, "seed")
        dedup.step = reader.string(fields, "step")
        if let scope = reader.string(fields, "scope") {
            if let value = DedupSettings.Scope(rawValue: scope) {
                dedup.scope = value
            } else {
                reader.report(.invalidValue, line: fields.line(of: "scope"), "dedup: scope must be 'run' or 'global', not '\(scope)'")
            }
        }
        return dedup
    }

    // MARK: Helpers

    private func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)).standardizedFileURL.path
    }

    static func isValidRunName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// The line where a scalar's text starts: the line after `|` or `>` for block scalars.
    static func textStartLine(_ node: Node) -> Int {
        guard case .scalar(let scalar) = node else { return ConfigNodeReader.line(node) }
        return ConfigNodeReader.line(node) + (scalar.style == .literal || scalar.style == .folded ? 1 : 0)
    }

    static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return 0
        }
    }

    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context.map { "\($0.text)" }, problem].compactMap { $0 }.joined(separator: ", ")
        default:
            return "\(error)"
        }
    }
}
