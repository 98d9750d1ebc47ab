package io.microbpf.collector;

import io.microbpf.api.latency.LatencySummary;
import java.util.List;

/**
 * The measurement node: NIC TX records of one host matched with NIC RX records of another, corrected
 * by the clock offsets between them, give one-way NIC-to-NIC latency per host pair and per flow.
 * The same summaries are published as the {@code netlat} {@link io.microbpf.api.latency.LatencyReport}.
 */
public interface NetLatencyCollector {
    /** One summary per host pair (labels from, to), then, if {@code flows}, one per flow (from, to, flow). */
    List<LatencySummary> summaries(boolean flows);

    CollectorStats stats();

    /** Empties every latency series and counter (pending records stay). */
    void reset();

    /** Where agents push (e.g. {@code http://0.0.0.0:7788/microbpf/push}); null when not listening. */
    String endpoint();
}
