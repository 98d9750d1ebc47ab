package io.microbpf.collector;

/**
 * Counters of the collector since start (or the last reset).
 *
 * @param batches pushes accepted
 * @param rejectedBatches pushes refused (malformed, too large, wrong method)
 * @param records NIC records received
 * @param matched TX/RX pairs matched (each one latency sample)
 * @param txAgedOut TX records whose RX never came within the window
 * @param rxAgedOut RX records whose TX never came within the window
 * @param duplicates records whose identity was already pending on the same side (both dropped: ambiguous)
 * @param noClock records from an agent the collector has no clock offset for (not matched)
 * @param sameAgent TX and RX of one identity reported by the same agent (not a host pair; not counted as latency)
 * @param outOfWindow pairs whose corrected timestamps were further apart than the window
 * @param negativeClamped pairs whose corrected RX time preceded TX (clock error larger than the delay), recorded as 0
 * @param pendingTx TX records waiting for their RX now
 * @param pendingRx RX records waiting for their TX now
 * @param flowsNotTracked matched pairs of flows beyond max.flows (in the host-pair series only)
 */
public record CollectorStats(long batches, long rejectedBatches, long records, long matched, long txAgedOut,
        long rxAgedOut, long duplicates, long noClock, long sameAgent, long outOfWindow, long negativeClamped,
        long pendingTx, long pendingRx, long flowsNotTracked) {}
