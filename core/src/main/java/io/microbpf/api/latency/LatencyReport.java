package io.microbpf.api.latency;

import java.util.List;
import java.util.Map;

/**
 * A service that holds latency distributions and can summarise them: the per-layer probes
 * (family {@code "layer"}), the application-latency probe ({@code "app"}) and the network-latency
 * collector ({@code "netlat"}) each register one. The shell, the HTTP sink and the Prometheus endpoint
 * read every registered report through this interface, so they need no dependency on the probes.
 */
public interface LatencyReport {

    /** The family these summaries belong to, e.g. {@code "layer"}, {@code "app"}, {@code "netlat"}. */
    String family();

    /** One summary per series (e.g. per layer), in the family's natural order; a consistent copy. */
    List<LatencySummary> summaries();

    /** Starts a new measurement window: every series of this report is emptied. */
    void reset();

    /**
     * Named counters that qualify the summaries, e.g. packets a latency probe could not match between
     * two boundaries or in-flight entries it evicted; shown under the latency table. None by default.
     */
    default Map<String, Long> counters() {
        return Map.of();
    }
}
