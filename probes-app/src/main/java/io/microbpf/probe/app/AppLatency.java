package io.microbpf.probe.app;

import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import java.util.List;

/**
 * The app probe's latency report (family {@code app}): one series per role, service port and phase
 * (labels {@code role}, {@code port}, {@code phase}), and optionally per flow. {@code port} is the
 * service port: the local port on the server side, the remote port on the client side.
 */
public interface AppLatency extends LatencyReport {
    /** Phases, in display order. */
    List<String> PHASES = List.of("queue", "think", "send", "request");

    /** One summary per (role, flow, phase); labels {@code role}, {@code flow}, {@code phase}. */
    List<LatencySummary> flowSummaries();

    /** Exchange counts since the probe was installed. */
    Counts counts();

    /**
     * @param answered exchanges with a response
     * @param closed closed before a response
     * @param timedOut aged out of the pending map without a response
     * @param superseded client requests followed by another request without a response
     * @param evicted open exchanges pushed out of the full pending map (LRU)
     * @param published {@code app.exchange} records handed to sinks (after sampling)
     */
    record Counts(long answered, long closed, long timedOut, long superseded, long evicted, long published) {}
}
