package io.microbpf.probe.layer;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.microbpf.api.Event;

/**
 * The time one TCP packet spent in one kernel layer (events mode of the rx and tx probes).
 *
 * @param direction {@code RX} or {@code TX}
 * @param layer e.g. {@code RX-TCP}, {@code TX-QDISC}
 * @param family 4 or 6
 * @param srcAddress the packet's source (for RX the remote peer, for TX this host)
 * @param seq the packet's TCP sequence number
 * @param payloadBytes TCP payload bytes of the packet (a GSO/GRO packet counts all of its segments)
 * @param segmentHash the hash both ends compute from the header (1-in-N sampling key)
 * @param durationNs time in the layer
 * @param startMonotonicNs when the packet entered the layer (CLOCK_MONOTONIC)
 * @param monotonicNs when it left the layer
 */
public record LayerLatencyEvent(
        String direction,
        String layer,
        int family,
        String srcAddress,
        int srcPort,
        String dstAddress,
        int dstPort,
        long seq,
        long payloadBytes,
        long segmentHash,
        long durationNs,
        long startMonotonicNs,
        long monotonicNs,
        long wallClockNs) implements Event {

    public static final String TYPE = "latency.layer";

    @Override
    @JsonProperty("type")
    public String type() {
        return TYPE;
    }

    @Override
    public String summary() {
        return layer + " " + srcAddress + ":" + srcPort + "->" + dstAddress + ":" + dstPort + " seq " + seq + " "
                + payloadBytes + " B " + durationNs + " ns";
    }
}
