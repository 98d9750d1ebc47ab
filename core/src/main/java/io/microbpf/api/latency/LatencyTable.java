package io.microbpf.api.latency;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Renders latency summaries as a fixed-width text table for the shell commands: one row per
 * summary, a column per label key (in first-seen order), then count and the percentiles, each
 * duration printed with its unit ({@code ns}, {@code µs}, {@code ms}, {@code s}).
 */
public final class LatencyTable {

    private LatencyTable() {}

    public static String render(List<LatencySummary> summaries) {
        Set<String> keys = new LinkedHashSet<>();
        summaries.forEach(s -> keys.addAll(s.labels().keySet()));
        List<String> header = new ArrayList<>();
        keys.forEach(k -> header.add(k.toUpperCase(Locale.ROOT)));
        header.addAll(List.of("COUNT", "P50", "P90", "P99", "P99.9", "MAX"));
        List<List<String>> rows = new ArrayList<>();
        rows.add(header);
        for (LatencySummary s : summaries) {
            List<String> row = new ArrayList<>();
            keys.forEach(k -> row.add(s.labels().getOrDefault(k, "-")));
            row.add(Long.toString(s.count()));
            for (long v : new long[] {s.p50Ns(), s.p90Ns(), s.p99Ns(), s.p999Ns(), s.maxNs()}) {
                row.add(s.count() == 0 ? "-" : duration(v));
            }
            rows.add(row);
        }
        int[] width = new int[header.size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                boolean label = i < keys.size();
                String cell = row.get(i);
                String pad = " ".repeat(width[i] - cell.length());
                out.append(label ? cell + pad : pad + cell);
                out.append(i + 1 < row.size() ? "  " : "\n");
            }
        }
        return out.toString();
    }

    /** A duration in nanoseconds with a unit that keeps three significant digits, e.g. {@code 12.3 µs}. */
    public static String duration(long ns) {
        if (ns < 1_000) {
            return ns + " ns";
        }
        if (ns < 1_000_000) {
            return scaled(ns / 1e3) + " µs";
        }
        if (ns < 1_000_000_000) {
            return scaled(ns / 1e6) + " ms";
        }
        return scaled(ns / 1e9) + " s";
    }

    private static String scaled(double v) {
        return String.format(Locale.ROOT, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    }
}
