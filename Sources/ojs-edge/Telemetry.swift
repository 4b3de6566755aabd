import Foundation
import Logging
import OTel
import ServiceLifecycle

/// Trace export over OTLP, on only when an endpoint is configured
/// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Otherwise no
/// tracer is bootstrapped: the process keeps the no-op tracer and the server adds no span
/// code to any request. Every other `OTEL_*` variable (protocol, headers, service name,
/// sampler, batch delays) is read by swift-otel as the OpenTelemetry spec defines it.
enum Telemetry {
    static func isConfigured(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let endpoint = [env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]].contains { !($0 ?? "").isEmpty }
        let disabled = env["OTEL_SDK_DISABLED"]?.lowercased() == "true" || env["OTEL_TRACES_EXPORTER"]?.lowercased() == "none"
        return endpoint && !disabled
    }

    /// Bootstraps the tracer when configured and returns the exporter's service, to run
    /// beside the server (it flushes at graceful shutdown). Only traces: logs stay JSON
    /// lines on stderr and metrics stay Prometheus.
    static func bootstrapTracing(serviceName: String, logger: Logger) throws -> (any Service)? {
        guard isConfigured() else { return nil }
        var config = OTel.Configuration.default
        config.serviceName = serviceName
        config.logs.enabled = false
        config.metrics.enabled = false
        config.traces.enabled = true
        config.diagnosticLogger = .custom(logger)
        let service = try OTel.bootstrap(configuration: config)
        logger.info("tracing enabled", metadata: ["service": .string(serviceName)])
        return service
    }
}
