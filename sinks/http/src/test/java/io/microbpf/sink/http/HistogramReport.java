package io.microbpf.sink.http;

import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A test {@link LatencyReport}: one HdrHistogram per series, filled by the test with durations it
 * measured itself (standing in for the layer/app/netlat probes that other modules provide).
 */
final class HistogramReport implements LatencyReport {
    private final String family;
    private final Map<Map<String, String>, Histogram> series = new LinkedHashMap<>();

    HistogramReport(String family) {
        this.family = family;
    }

    synchronized void record(Map<String, String> labels, long ns) {
        series.computeIfAbsent(labels, l -> new Histogram(3_600_000_000_000L, 3)).recordValue(Math.max(1, ns));
    }

    @Override
    public String family() {
        return family;
    }

    @Override
    public synchronized List<LatencySummary> summaries() {
        List<LatencySummary> out = new ArrayList<>();
        series.forEach((labels, h) -> out.add(LatencySummary.of(family, labels, h)));
        return out;
    }

    @Override
    public synchronized void reset() {
        series.values().forEach(Histogram::reset);
    }
}
