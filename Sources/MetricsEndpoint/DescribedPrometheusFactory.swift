import CoreMetrics
import Master
import Prometheus

/// A swift-metrics factory over a Prometheus registry that gives each metric the HELP text ``MetricName`` declares
/// (swift-prometheus's own factory registers every metric without one). Metrics the master does not declare are
/// refused: a typo must not quietly become a new, undocumented series.
public struct DescribedPrometheusFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    private func describe(_ label: String) -> MetricNameDescriptor {
        guard let name = MetricName(rawValue: label) else {
            preconditionFailure("metric \(label) is not declared in MetricName")
        }
        return name.descriptor
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(
        label: String,
        dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: describe(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: describe(label),
            labels: dimensions,
            buckets: MasterMetrics.durationBuckets
        )
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: describe(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: describe(label),
            labels: dimensions,
            buckets: MasterMetrics.durationBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
        )
    }

    // The master makes its instruments once and keeps them for the life of the process.
    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}

extension MetricName {
    /// The name whole (no namespace or unit is added) with its HELP text.
    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: rawValue, unitName: "", helpText: help)
    }
}
