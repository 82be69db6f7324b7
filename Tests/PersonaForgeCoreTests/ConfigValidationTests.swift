import Testing
@testable import PersonaForgeCore

/// A broken config and the problem it must produce.
struct BrokenConfig: Sendable, CustomTestStringConvertible {
    let label: String
    let yaml: String
    var files: [String: String] = [:]
    let code: ConfigProblem.Code
    let line: Int
    let message: String
    var fileSuffix = "run.yaml"
    var testDescription: String { label }
}

/// Loads `yaml` (written as run.yaml next to `files`) and returns its problems, or [] if valid.
func loadProblems(_ yaml: String, files: [String: String] = [:]) throws -> [ConfigProblem] {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    for (name, contents) in files { try directory.write(name, contents) }
    let path = try directory.write("run.yaml", yaml)
    do {
        _ = try RunConfigLoader().load(path: path)
        return []
    } catch {
        return error.problems
    }
}

let validSteps = """
    steps:
      - name: s
        user: "Write as {{persona}}"
    """

@Suite("Run config validation")
struct ConfigValidationTests {
    static let catalogue: [BrokenConfig] = [
        BrokenConfig(
            label: "unknown key with suggestion",
            yaml: """
                name: t
                smaples_per_condition: 2
                axes:
                  - name: persona
                    source: {values: [a, b]}
                \(validSteps)
                """,
            code: .unknownKey, line: 2,
            message: "unknown key 'smaples_per_condition' in the run config — did you mean 'samples_per_condition'?"
        ),
        BrokenConfig(
            label: "unknown nested key",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a, b]}
                model:
                  max_tokns: 12
                \(validSteps)
                """,
            code: .unknownKey, line: 6, message: "did you mean 'max_tokens'?"
        ),
        BrokenConfig(
            label: "missing axis file",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {file: data/nowhere.jsonl}
                \(validSteps)
                """,
            code: .missingFile, line: 3, message: "axis 'persona': cannot read file 'data/nowhere.jsonl'"
        ),
        BrokenConfig(
            label: "bad JSONL line",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {file: personas.jsonl}
                \(validSteps)
                """,
            files: ["personas.jsonl": "{\"persona\": \"a\"}\n\n{\"persona\": \"b\"\n{\"persona\": \"c\"}\n"],
            code: .invalidJSONLine, line: 3, message: "axis 'persona': line 3 is not valid JSON", fileSuffix: "personas.jsonl"
        ),
        BrokenConfig(
            label: "JSONL field missing, with suggestion",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {file: p.jsonl}
                \(validSteps)
                """,
            files: ["p.jsonl": "{\"persona\": \"a\"}\n{\"personna\": \"b\"}\n"],
            code: .missingField, line: 2, message: "line 2 has no field 'persona' — did you mean field: personna?", fileSuffix: "p.jsonl"
        ),
        BrokenConfig(
            label: "space overflow",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {postgres: {table: personas, column: persona, count: 4611686018427387904}}
                  - name: topic
                    source: {values: [a, b, c]}
                \(validSteps)
                """,
            code: .overflow, line: 2, message: "has more than 2^63 − 1 conditions"
        ),
        BrokenConfig(
            label: "secret in file",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                model:
                  api_key: sk-live-0123456789
                \(validSteps)
                """,
            code: .secretInConfig, line: 6, message: "'api_key' in model looks like a secret; secrets are never accepted in a run config"
        ),
        BrokenConfig(
            label: "undefined template variable",
            yaml: """
                name: t
                axes:
                  - name: topic
                    source: {values: [a]}
                steps:
                  - name: s
                    user: |
                      Hello.
                      Write about {{topc}}.
                """,
            code: .undefinedVariable, line: 9, message: "step 's' user template: {{topc}} is not defined by any axis or earlier step — did you mean {{topic}}?"
        ),
        BrokenConfig(
            label: "undefined axis field",
            yaml: """
                name: t
                axes:
                  - name: level
                    source:
                      values:
                        - {value: easy, grade: "3"}
                        - {value: hard, grade: "9"}
                steps:
                  - name: s
                    user: "{{level}} for grade {{level.grde}}"
                """,
            code: .undefinedVariable, line: 10, message: "{{level.grde}} is not defined: axis 'level' has fields: grade — did you mean {{level.grade}}?"
        ),
        BrokenConfig(
            label: "step uses a later step",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                steps:
                  - name: problem
                    system: "Use {{steps.solution}}"
                    user: "{{persona}}"
                  - name: solution
                    user: "Solve {{steps.problem}}"
                """,
            code: .laterStepReference, line: 7, message: "{{steps.solution}} uses step 'solution', which has not run yet"
        ),
        BrokenConfig(
            label: "limit zero",
            yaml: """
                name: t
                limit: 0
                axes:
                  - name: persona
                    source: {values: [a]}
                \(validSteps)
                """,
            code: .invalidValue, line: 2, message: "'limit' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "limit beyond space",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a, b]}
                limit: 5
                \(validSteps)
                """,
            code: .invalidLimit, line: 5, message: "limit 5 must be between 1 and the sample space size 2"
        ),
        BrokenConfig(
            label: "negative shard size",
            yaml: """
                name: t
                shard_size: -5
                axes:
                  - name: persona
                    source: {values: [a]}
                \(validSteps)
                """,
            code: .invalidValue, line: 2, message: "'shard_size' must be at least 1, got -5"
        ),
        BrokenConfig(
            label: "duplicate axis names",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                  - name: persona
                    source: {values: [b]}
                \(validSteps)
                """,
            code: .duplicateName, line: 5, message: "axis 'persona' is declared twice (first on line 3)"
        ),
        BrokenConfig(
            label: "missing steps",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                """,
            code: .missingKey, line: 1, message: "the run config is missing required key 'steps'"
        ),
        BrokenConfig(
            label: "wrong type",
            yaml: """
                name: t
                seed: lucky
                axes:
                  - name: persona
                    source: {values: [a]}
                \(validSteps)
                """,
            code: .wrongType, line: 2, message: "'seed' must be an integer between 0 and 2^64 − 1, got 'lucky'"
        ),
        BrokenConfig(
            label: "YAML syntax",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]\n",
            code: .yamlSyntax, line: 5, message: "not valid YAML"
        ),
        BrokenConfig(
            label: "template syntax",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                steps:
                  - name: s
                    user: "{{#persona}}unclosed"
                """,
            code: .templateSyntax, line: 7, message: "never closed"
        ),
        BrokenConfig(
            label: "demos without demonstrations",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                steps:
                  - name: s
                    user: "{{#demos}}{{problem}}{{/demos}} {{persona}}"
                """,
            code: .undefinedVariable, line: 7, message: "{{#demos}} needs a 'demonstrations:' section"
        ),
        BrokenConfig(
            label: "reserved axis name",
            yaml: """
                name: t
                axes:
                  - name: steps
                    source: {values: [a]}
                steps:
                  - name: s
                    user: "x"
                """,
            code: .reservedName, line: 3, message: "axis name 'steps' is reserved"
        ),
        BrokenConfig(
            label: "two sources",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a], file: p.txt}
                \(validSteps)
                """,
            code: .invalidValue, line: 4, message: "needs exactly one of 'values' (inline list), 'file' (JSONL or text file) or 'postgres' (table), found values and file"
        ),
        BrokenConfig(
            label: "key value in api_key_env",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                model:
                  api_key_env: sk-proj-abc123
                \(validSteps)
                """,
            code: .secretInConfig, line: 6, message: "api_key_env must be the *name* of an environment variable"
        ),
        BrokenConfig(
            label: "JSON field outside schema",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                steps:
                  - name: q
                    user: "{{persona}}"
                    output: json
                    json_schema:
                      type: object
                      properties: {question: {type: string}, answer: {type: string}}
                  - name: check
                    user: "{{steps.q.anwser}}"
                """,
            code: .undefinedVariable, line: 13, message: "the json_schema of step 'q' has properties answer, question"
        ),
        BrokenConfig(
            label: "partials unsupported",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source: {values: [a]}
                steps:
                  - name: s
                    user: "{{> header}} {{persona}}"
                """,
            code: .unsupportedTemplateFeature, line: 7, message: "partials ({{>name}}) are not supported"
        ),
        BrokenConfig(
            label: "unsafe postgres identifier",
            yaml: """
                name: t
                axes:
                  - name: persona
                    source:
                      postgres:
                        table: "personas; drop table runs"
                        column: persona
                        count: 10
                \(validSteps)
                """,
            code: .invalidValue, line: 6, message: "'table' value 'personas; drop table runs' must be a plain SQL identifier"
        ),
        // Zero and negative sizes.
        BrokenConfig(
            label: "zero samples_per_condition",
            yaml: "name: t\nsamples_per_condition: 0\naxes:\n  - name: persona\n    source: {values: [a]}\n\(validSteps)",
            code: .invalidValue, line: 2, message: "'samples_per_condition' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "zero max_tokens",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  max_tokens: 0\n\(validSteps)",
            code: .invalidValue, line: 6, message: "model: 'max_tokens' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "negative timeout_seconds",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  timeout_seconds: -1\n\(validSteps)",
            code: .invalidValue, line: 6, message: "model: 'timeout_seconds' must be between 0.1 and 3600.0, got -1"
        ),
        BrokenConfig(
            label: "zero demonstrations count",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\ndemonstrations: {file: demos.jsonl, count: 0}\n\(validSteps)",
            files: ["demos.jsonl": "{\"q\": \"x\"}\n"],
            code: .invalidValue, line: 5, message: "demonstrations: 'count' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "zero postgres count",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {postgres: {table: p, column: c, count: 0}}\n\(validSteps)",
            code: .invalidValue, line: 4, message: "'count' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "zero dedup permutations",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\ndedup: {permutations: 0}\n\(validSteps)",
            code: .invalidValue, line: 5, message: "dedup: 'permutations' must be at least 1, got 0"
        ),
        // Numbers past 2^63.
        BrokenConfig(
            label: "limit over 2^63",
            yaml: "name: t\nlimit: 99999999999999999999\naxes:\n  - name: persona\n    source: {values: [a]}\n\(validSteps)",
            code: .overflow, line: 2, message: "'limit' 99999999999999999999 is larger than 2^63 − 1"
        ),
        BrokenConfig(
            label: "samples × conditions over 2^63",
            yaml: "name: t\nsamples_per_condition: 3\naxes:\n  - name: persona\n    source: {postgres: {table: p, column: c, count: 4611686018427387904}}\n\(validSteps)",
            code: .overflow, line: 2, message: "exceeds 2^63 − 1; lower samples_per_condition or shrink an axis"
        ),
        // Wrong YAML types.
        BrokenConfig(
            label: "axes is a mapping",
            yaml: "name: t\naxes: {name: persona}\n\(validSteps)",
            code: .wrongType, line: 2, message: "'axes' must be a non-empty list"
        ),
        BrokenConfig(
            label: "steps is a string",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nsteps: write something\n",
            code: .wrongType, line: 5, message: "'steps' must be a non-empty list of steps"
        ),
        BrokenConfig(
            label: "model is a list",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel: [a, b]\n\(validSteps)",
            code: .wrongType, line: 5, message: "model must be a mapping of keys to values"
        ),
        BrokenConfig(
            label: "shard_size is a fraction",
            yaml: "name: t\nshard_size: 2.5\naxes:\n  - name: persona\n    source: {values: [a]}\n\(validSteps)",
            code: .wrongType, line: 2, message: "'shard_size' must be an integer, got '2.5'"
        ),
        BrokenConfig(
            label: "the config is a list",
            yaml: "- name: t\n- axes: []\n",
            code: .wrongType, line: 1, message: "the run config must be a mapping of keys to values"
        ),
        BrokenConfig(
            label: "endpoints is not a list",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints: http://a:1/v1\n\(validSteps)",
            code: .wrongType, line: 6, message: "model: endpoints must be a non-empty list, each item with a base_url"
        ),
        BrokenConfig(
            label: "an endpoint without base_url",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - {weight: 2}\n\(validSteps)",
            code: .missingKey, line: 7, message: "base_url"
        ),
        BrokenConfig(
            label: "an endpoint URL that is not http",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - base_url: ftp://a/v1\n\(validSteps)",
            code: .invalidValue, line: 7, message: "model: endpoint 1: base_url 'ftp://a/v1' must be an http(s) URL"
        ),
        BrokenConfig(
            label: "an endpoint URL with credentials",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - base_url: http://u:pw@a:1/v1\n\(validSteps)",
            code: .secretInConfig, line: 7, message: "model: endpoint 1: base_url must not carry credentials"
        ),
        BrokenConfig(
            label: "two endpoints with one name",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - base_url: http://a:1/v1\n    - base_url: http://a:1/v1\n\(validSteps)",
            code: .duplicateName, line: 8, message: "model: endpoint 2: the name 'a:1' is taken by the endpoint on line 7"
        ),
        BrokenConfig(
            label: "only fallback endpoints",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - {base_url: http://a:1/v1, weight: 0}\n\(validSteps)",
            code: .invalidValue, line: 7, message: "model: every endpoint has weight 0 (a fallback)"
        ),
        BrokenConfig(
            label: "a negative weight",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - {base_url: http://a:1/v1, weight: -1}\n\(validSteps)",
            code: .invalidValue, line: 7, message: "'weight' must be between 0.0 and 1000000.0, got -1"
        ),
        BrokenConfig(
            label: "base_url beside endpoints",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  base_url: http://a:1/v1\n  endpoints:\n    - base_url: http://b:1/v1\n\(validSteps)",
            code: .invalidValue, line: 7, message: "model: give either base_url or endpoints, not both"
        ),
        BrokenConfig(
            label: "a key in place of an endpoint's api_key_env",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - {base_url: http://a:1/v1, api_key_env: sk-abc-123}\n\(validSteps)",
            code: .secretInConfig, line: 7, message: "model: endpoint 1: api_key_env must be the *name* of an environment variable"
        ),
        BrokenConfig(
            label: "a zero request limit",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  requests_per_minute: 0\n\(validSteps)",
            code: .invalidValue, line: 6, message: "model: 'requests_per_minute' must be between 0.1 and"
        ),
        BrokenConfig(
            label: "an endpoint's negative token limit",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  endpoints:\n    - {base_url: http://a:1/v1, tokens_per_minute: -5}\n\(validSteps)",
            code: .invalidValue, line: 7, message: "'tokens_per_minute' must be between 1.0 and"
        ),
        BrokenConfig(
            label: "an empty budget",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nbudget: {}\n\(validSteps)",
            code: .invalidValue, line: 5, message: "budget: give at least one of target_kept, max_tokens, max_cost"
        ),
        BrokenConfig(
            label: "a max_cost without prices",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nbudget:\n  max_cost: 10\n\(validSteps)",
            code: .invalidValue, line: 6, message: "budget: max_cost needs prices"
        ),
        BrokenConfig(
            label: "a zero target_kept",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nbudget:\n  target_kept: 0\n\(validSteps)",
            code: .invalidValue, line: 6, message: "budget: 'target_kept' must be at least 1, got 0"
        ),
        BrokenConfig(
            label: "a budget with an unknown rule",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nbudget:\n  max_dollars: 3\n\(validSteps)",
            code: .unknownKey, line: 6, message: "unknown key 'max_dollars' in budget"
        ),
        BrokenConfig(
            label: "a negative price",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  price_per_million_prompt_tokens: -1\n\(validSteps)",
            code: .invalidValue, line: 6, message: "'price_per_million_prompt_tokens' must be between 0.0 and"
        ),
        BrokenConfig(
            label: "n beyond samples_per_condition",
            yaml: "name: t\nsamples_per_condition: 2\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  n: 4\n\(validSteps)",
            code: .invalidValue, line: 6, message: "model: n 4 asks for more samples per request than samples_per_condition (2)"
        ),
        BrokenConfig(
            label: "n beyond 128",
            yaml: "name: t\nsamples_per_condition: 500\naxes:\n  - name: persona\n    source: {values: [a]}\nmodel:\n  n: 129\n\(validSteps)",
            code: .invalidValue, line: 7, message: "model: n 129 is too large"
        ),
        BrokenConfig(
            label: "NUL in an inline value",
            yaml: "name: t\naxes:\n  - name: persona\n    source: {values: [ok, \"a\\0b\"]}\n\(validSteps)",
            code: .notText, line: 4, message: "axis 'persona': a value contains a NUL character"
        ),
    ]

    @Test(arguments: catalogue)
    func reportsTheProblem(broken: BrokenConfig) throws {
        let problems = try loadProblems(broken.yaml, files: broken.files)
        let match = problems.first { $0.code == broken.code }
        #expect(match != nil, "expected a \(broken.code) problem, got:\n\(problems.map(\.description).joined(separator: "\n"))")
        guard let match else { return }
        #expect(match.line == broken.line, "\(match)")
        #expect(match.message.contains(broken.message), "\(match)")
        #expect(match.file.hasSuffix(broken.fileSuffix))
    }

    @Test func secretsAreNeverEchoed() throws {
        let problems = try loadProblems("""
            name: t
            axes:
              - name: persona
                source: {values: [a]}
            model:
              api_key: sk-live-0123456789
              password: hunter2
            \(validSteps)
            """)
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.code == .secretInConfig })
        #expect(!problems.map(\.description).joined().contains("sk-live"))
        #expect(!problems.map(\.description).joined().contains("hunter2"))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let problems = try loadProblems("""
            name: t
            seed: -1
            shard_sise: 10
            axes:
              - name: persona
                source: {file: missing.txt}
            steps:
              - name: s
                user: "{{persona}} {{topic}}"
            dedup:
              threshold: 2
            """)
        #expect(problems.map(\.code) == [.wrongType, .unknownKey, .missingFile, .undefinedVariable, .invalidValue])
        #expect(problems.map(\.line) == [2, 3, 5, 9, 11])
        #expect(problems[1].description.hasSuffix("run.yaml:3: unknown key 'shard_sise' in the run config — did you mean 'shard_size'?"))
    }

    @Test func endpointsTakeTheModelWideLimitsKeyAndNameWhereTheyGiveNone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("run.yaml", """
            name: pool
            axes:
              - name: persona
                source: {values: [a]}
            model:
              name: base-model
              api_key_env: POOL_KEY
              requests_per_minute: 600
              tokens_per_minute: 90000
              endpoints:
                - base_url: http://gpu-1:8000/v1
                  weight: 3
                - {base_url: "https://api.example.com/v1", weight: 0, name: provider, model: hosted, api_key_env: PROVIDER_KEY, requests_per_minute: 60}
            \(validSteps)
            """)
        let model = try RunConfigLoader().load(path: path).config.model
        let pool = model.pool
        #expect(pool.map(\.name) == ["gpu-1:8000", "provider"])
        #expect(pool.map(\.weight) == [3, 0])
        #expect(pool.map(\.model) == [nil, "hosted"])
        #expect(pool.map(\.apiKeyEnvironmentVariable) == ["POOL_KEY", "PROVIDER_KEY"])
        #expect(pool.map(\.requestsPerMinute) == [600, 60])
        #expect(pool.map(\.tokensPerMinute) == [90000, 90000])
        // Without endpoints: one, from base_url, with the same limits.
        let single = ModelSettings(baseURL: "http://127.0.0.1:9/v1", requestsPerMinute: 30).pool
        #expect(single.count == 1 && single[0].name == "127.0.0.1:9" && single[0].requestsPerMinute == 30 && single[0].weight == 1)
    }

    @Test func validConfigHasNoProblems() throws {
        #expect(try loadProblems("""
            name: ok
            axes:
              - name: persona
                source: {values: [a]}
            \(validSteps)
            """) == [])
    }
}
