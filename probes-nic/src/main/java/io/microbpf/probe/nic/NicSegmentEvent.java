package io.microbpf.probe.nic;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.microbpf.api.Event;

/**
 * One sampled TCP segment where it left a NIC (TX) or reached one (RX). The identity fields
 * (addresses, ports, seq, ack, payload length, IPv4 id) are what the sender's TX record and the
 * receiver's RX record of the same segment share; NAT between the hosts rewrites addresses/ports
 * (and a proxy or a middlebox that re-segments rewrites seq/length), which breaks the match.
 *
 * @param direction TX or RX
 * @param family 4 or 6
 * @param srcAddress IP source address of the segment (as text)
 * @param srcPort TCP source port
 * @param dstAddress IP destination address
 * @param dstPort TCP destination port
 * @param seq TCP sequence number of this segment
 * @param ack TCP acknowledgment number
 * @param payloadBytes TCP payload of this segment
 * @param ipId IPv4 identification of this segment (0 for IPv6)
 * @param tcpFlags TCP flags byte of the skb (of its first segment for GSO)
 * @param ifindex the device's index in its namespace
 * @param interfaceName the device's name where the agent can tell (its own namespace), else {@code if<N>}
 * @param netnsInode the device's network namespace
 * @param gsoSegments segments of the skb this segment belonged to (1 without GSO/GRO)
 * @param segmentIndex which of those segments
 * @param hook the kernel hook that saw it
 * @param monotonicNs when, in the agent's record clock (CLOCK_MONOTONIC + the test-only injected offset)
 * @param wallClockNs the same instant as epoch nanoseconds (with the same injected offset)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record NicSegmentEvent(
        String direction,
        int family,
        String srcAddress,
        int srcPort,
        String dstAddress,
        int dstPort,
        long seq,
        long ack,
        int payloadBytes,
        int ipId,
        int tcpFlags,
        int ifindex,
        String interfaceName,
        long netnsInode,
        int gsoSegments,
        int segmentIndex,
        String hook,
        long monotonicNs,
        long wallClockNs) implements Event {
    public static final String TYPE = "nic.segment";
    public static final String TX = "TX";
    public static final String RX = "RX";

    @Override
    @JsonProperty("type")
    public String type() {
        return TYPE;
    }

    public boolean tx() {
        return TX.equals(direction);
    }

    /** {@code src:port>dst:port}, the flow in the direction of this segment. */
    public String flow() {
        return endpoint(srcAddress, srcPort) + ">" + endpoint(dstAddress, dstPort);
    }

    @Override
    public String summary() {
        return direction + " " + interfaceName + " " + flow() + " seq=" + Long.toUnsignedString(seq) + " ack="
                + Long.toUnsignedString(ack) + " len=" + payloadBytes + (family == 4 ? " id=" + ipId : "")
                + (gsoSegments > 1 ? " seg=" + segmentIndex + "/" + gsoSegments : "");
    }

    private static String endpoint(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
