package io.microbpf.api.latency;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A latency distribution at one moment: its labels (e.g. {@code layer=RX-TCP}), count, the usual
 * percentiles and cumulative counts at fixed power-of-two bounds (for Prometheus histograms).
 * Every duration is in nanoseconds.
 *
 * @param family            the reporting family ({@link LatencyReport#family()})
 * @param labels            what the series is about, insertion-ordered (e.g. layer, flow, port, phase)
 * @param count             number of samples
 * @param minNs             smallest sample (0 if none)
 * @param p50Ns             median
 * @param p90Ns             90th percentile
 * @param p99Ns             99th percentile
 * @param p999Ns            99.9th percentile
 * @param maxNs             largest sample
 * @param sumNs             sum of the samples as the histogram knows it (mean × count, within its precision)
 * @param buckets           cumulative counts at each bound of {@link #BUCKET_BOUNDS_NS}; the last bound is
 *                          not +Inf: {@code count} is
 */
public record LatencySummary(String family, Map<String, String> labels, long count, long minNs, long p50Ns,
        long p90Ns, long p99Ns, long p999Ns, long maxNs, long sumNs, List<Bucket> buckets) {

    /** Power-of-two bucket bounds from 1.024 µs (2^10 ns) to about 8.6 s (2^33 ns). */
    public static final long[] BUCKET_BOUNDS_NS = bounds();

    /** Samples ≤ {@code upperBoundNs}, cumulative. */
    public record Bucket(long upperBoundNs, long cumulativeCount) {}

    public LatencySummary {
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        buckets = List.copyOf(buckets);
    }

    /** Summarises an HdrHistogram whose values are nanoseconds. */
    public static LatencySummary of(String family, Map<String, String> labels, Histogram histogramNs) {
        long count = histogramNs.getTotalCount();
        List<Bucket> buckets = new ArrayList<>(BUCKET_BOUNDS_NS.length);
        for (long bound : BUCKET_BOUNDS_NS) {
            buckets.add(new Bucket(bound, count == 0 ? 0 : histogramNs.getCountBetweenValues(0, bound)));
        }
        if (count == 0) {
            return new LatencySummary(family, labels, 0, 0, 0, 0, 0, 0, 0, 0, buckets);
        }
        return new LatencySummary(family, labels, count, histogramNs.getMinValue(),
                histogramNs.getValueAtPercentile(50), histogramNs.getValueAtPercentile(90),
                histogramNs.getValueAtPercentile(99), histogramNs.getValueAtPercentile(99.9),
                histogramNs.getMaxValue(), Math.round(histogramNs.getMean() * count), buckets);
    }

    private static long[] bounds() {
        long[] b = new long[24];
        for (int i = 0; i < b.length; i++) {
            b[i] = 1L << (10 + i);
        }
        return b;
    }
}
