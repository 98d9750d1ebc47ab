package io.microbpf.clocksync;

/**
 * The clock an agent stamps its records with: CLOCK_MONOTONIC as BPF reads it with
 * {@code bpf_ktime_get_ns()}, plus an offset injected for tests (0 in production). Every timestamp
 * an agent hands to another host (NIC records, clock-sync probes) is in this clock, so an injected
 * offset looks exactly like two hosts whose clocks disagree.
 */
public interface AgentClock {
    /** This agent's id (names it in pushes and clock-sync probes). */
    String agentId();

    /** The offset added to every CLOCK_MONOTONIC reading of this agent (test knob), ns. */
    long injectedOffsetNs();

    /** Now, in this agent's clock, ns. */
    long nowNs();

    /** A CLOCK_MONOTONIC instant (e.g. from {@code bpf_ktime_get_ns()}) in this agent's clock. */
    default long fromMonotonicNs(long monotonicNs) {
        return monotonicNs + injectedOffsetNs();
    }
}
