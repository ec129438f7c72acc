import Foundation
import Prometheus

/// The service's Prometheus metrics, on a registry of its own (no process-wide metrics system),
/// so that several services in one process (tests) keep separate counts.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
    ]

    private func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "orbit", metricName: metric, unitName: unit, helpText: help)
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: name("http_requests", "total", "HTTP requests by route, method and status"), labels: labels)
            .increment()
        registry.makeDurationHistogram(
            descriptor: name("http_request_duration", "seconds", "HTTP request latency by route and method"),
            labels: [("route", route), ("method", method)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func recommended(source: String, count: Int) {
        registry.makeCounter(descriptor: name("recommendations", "total", "Users recommended, by source"), labels: [("source", source)])
            .increment(by: Int64(count))
    }

    func filtered(reason: String, count: Int) {
        registry.makeCounter(descriptor: name("filtered_candidates", "total", "Candidates removed by filters, by reason"),
                             labels: [("reason", reason)])
            .increment(by: Int64(count))
    }

    func modelRefused() {
        registry.makeCounter(descriptor: name("model_files_refused", "total", "Model files refused at a rebuild (corrupt, truncated, another id space)"),
                             labels: []).increment()
    }

    func eventsWritten(_ n: Int) {
        registry.makeCounter(descriptor: name("events_written", "total", "Events written to the store"), labels: []).increment(by: Int64(n))
    }

    func gauge(_ metric: String, _ unit: String, _ help: String, labels: [(String, String)] = [], _ value: Double) {
        registry.makeGauge(descriptor: name(metric, unit, help), labels: labels).set(value)
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
