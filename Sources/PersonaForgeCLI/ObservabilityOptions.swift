import ArgumentParser
import Foundation
import Logging
import Metrics
import PersonaForgeObservability
import PersonaForgeSupport
import Prometheus

/// Metrics, probes, log format and shutdown timing of a long-running service. Each
/// flag falls back to its environment variable:
///
/// | flag               | environment                     | default   |
/// |--------------------|---------------------------------|-----------|
/// | `--metrics-port`   | `PERSONAFORGE_METRICS_PORT`     | `9464` (`0` or `off`: no endpoint) |
/// | `--metrics-host`   | `PERSONAFORGE_METRICS_HOST`     | `0.0.0.0` |
/// | `--log-format`     | `PERSONAFORGE_LOG_FORMAT`       | `text` (`logfmt`, `json`) |
/// | `--grace-period`   | `PERSONAFORGE_GRACE_PERIOD`     | `20` seconds |
/// | `--stall-timeout`  | `PERSONAFORGE_STALL_TIMEOUT`    | `300` seconds |
struct ObservabilityOptions: ParsableArguments {
    static let defaultMetricsPort = 9464

    @Option(help: ArgumentHelp(
        "Port of the HTTP endpoint serving /metrics, /health and /ready; 0 or 'off' disables it.",
        discussion: "Env: PERSONAFORGE_METRICS_PORT. Default \(defaultMetricsPort)."
    ))
    var metricsPort: String?

    @Option(help: ArgumentHelp("Address the metrics endpoint binds to.", discussion: "Env: PERSONAFORGE_METRICS_HOST. Default 0.0.0.0 (all interfaces, for scrapers and probes)."))
    var metricsHost: String?

    @Option(help: ArgumentHelp("Log line format: text, logfmt or json.", discussion: "Env: PERSONAFORGE_LOG_FORMAT."))
    var logFormat: String?

    @Option(help: ArgumentHelp(
        "Seconds to finish held work after SIGTERM before releasing it and exiting with code 3.",
        discussion: "Env: PERSONAFORGE_GRACE_PERIOD. Keep it below the pod's terminationGracePeriodSeconds minus 5 (Kubernetes' default is 30)."
    ))
    var gracePeriod: String?

    @Option(help: ArgumentHelp("Seconds without loop progress after which /health fails.", discussion: "Env: PERSONAFORGE_STALL_TIMEOUT."))
    var stallTimeout: String?

    private func value(_ flag: String?, _ variable: String) -> (value: String, source: String)? {
        flagOrEnvironment(flag, variable).map { ($0.value, $0.isFlag ? "--" + Self.flagName(variable) : variable) }
    }

    private static func flagName(_ variable: String) -> String {
        variable.replacingOccurrences(of: "PERSONAFORGE_", with: "").lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// Where to serve, or nil when the endpoint is turned off.
    func metricsAddress() throws -> ObservabilityAddress? {
        let host = value(metricsHost, "PERSONAFORGE_METRICS_HOST")?.value ?? "0.0.0.0"
        guard let (text, source) = value(metricsPort, "PERSONAFORGE_METRICS_PORT") else {
            return ObservabilityAddress(host: host, port: Self.defaultMetricsPort)
        }
        if text.lowercased() == "off" || text == "0" { return nil }
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ValidationError("\(source) must be a TCP port (1-65535), or 0 / off to disable the metrics endpoint; got '\(text)'")
        }
        return ObservabilityAddress(host: host, port: port)
    }

    func format() throws -> LogFormat {
        guard let (text, source) = value(logFormat, "PERSONAFORGE_LOG_FORMAT") else { return .text }
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw ValidationError("\(source) must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'")
        }
        return format
    }

    func grace() throws -> Duration { try seconds(gracePeriod, "PERSONAFORGE_GRACE_PERIOD", default: 20) }
    func stall() throws -> Duration { try seconds(stallTimeout, "PERSONAFORGE_STALL_TIMEOUT", default: 300) }

    private func seconds(_ flag: String?, _ variable: String, default fallback: Double) throws -> Duration {
        guard let (text, source) = value(flag, variable) else { return .milliseconds(Int64(fallback * 1000)) }
        guard let seconds = Double(text), seconds >= 0, seconds < 86_400 else {
            throw ValidationError("\(source) must be a number of seconds (e.g. 20); got '\(text)'")
        }
        return .milliseconds(Int64(seconds * 1000))
    }
}

/// The process-wide logging and metrics backends, bootstrapped once by the executable
/// (libraries only receive a logger and a metrics factory).
enum ProcessObservability {
    private static let bootstrapped = LockedBox<(registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory)?>(nil)

    /// Bootstraps swift-log with `format` and swift-metrics with a Prometheus registry
    /// (first call only) and returns the registry and factory.
    static func bootstrap(format: LogFormat) -> (registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory) {
        bootstrapped.withLock { state in
            if let state { return state }
            switch format {
            case .text: LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            case .logfmt, .json: LoggingSystem.bootstrap { StructuredLogHandler(label: $0, format: format) }
            }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // LLM requests and commits take seconds, not milliseconds.
            let slow: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                    .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120)]
            factory.durationHistogramBuckets["personaforge_llm_request_duration_seconds"] = slow
            factory.defaultDurationHistogramBuckets = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                                       .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                                       .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30)]
            MetricsSystem.bootstrap(factory)
            state = (registry, factory)
            return (registry, factory)
        }
    }
}
