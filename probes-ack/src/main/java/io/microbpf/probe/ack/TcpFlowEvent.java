package io.microbpf.probe.ack;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.microbpf.api.Event;

/**
 * MicroBPF's flow-level TCP metrics for one connection: a SNAPSHOT of a live flow (every snapshot
 * interval) or its FINAL values at close. The kernel updates the socket's state on every ACK the flow
 * receives; the probe counts every ACK, read and write call and RTT sample as they happen and reads the
 * socket's state at the snapshot (or close), so the values are those left by the last ACK before it.
 *
 * @param kind SNAPSHOT or FINAL
 * @param flightSizePackets FlightSize: packets in flight as the kernel counts them
 *     (packets_out - sacked_out - lost_out + retrans_out)
 * @param peerWindowBytes RWND: the window the peer advertised (what we may send into; tcpi_snd_wnd)
 * @param receiveWindowBytes our own advertised receive window (tcpi_rcv_wnd)
 * @param cwndPackets CWND (tcpi_snd_cwnd)
 * @param mssBytes MSS (tcpi_snd_mss)
 * @param retransmittedPackets RePackets: retransmitted segments (tcpi_total_retrans)
 * @param bytesSent BSent: payload bytes sent and acknowledged
 * @param bytesReceived BReceived: payload bytes received in order
 * @param fastRetransmits fastRetrans: segments retransmitted outside the loss (RTO) state
 * @param timeouts Timeout: RTO expiries (tcpi_total_rto on kernels that have it)
 * @param sendQueueBytes CurAppWQueue: bytes the application wrote that are not yet acknowledged
 * @param maxSendQueueBytes MaxAppWQueue: the largest sendQueueBytes since this flow's previous record
 *     (so it falls back to 0 once the queue has drained)
 * @param rttSamples SampleRTT: RTT samples the kernel took
 * @param rttSumUs SumRTT: their sum, microseconds
 * @param srttUs the smoothed RTT at the last refresh, microseconds
 * @param readBytes ReadByte: bytes returned by the application's read calls
 * @param readCalls read calls that returned data
 * @param writeBytes WriteByte: bytes accepted by the application's write calls
 * @param writeCalls write calls that accepted data
 * @param acks segments the established socket processed (ACK refreshes)
 * @param durationNs Duration: ESTABLISHED until this record
 * @param caState congestion-avoidance state: Open, Disorder, CWR, Recovery or Loss
 */
public record TcpFlowEvent(
        String kind,
        int family,
        String localAddress,
        int localPort,
        String remoteAddress,
        int remotePort,
        long netnsInode,
        long socketCookie,
        int pid,
        String comm,
        long flightSizePackets,
        long peerWindowBytes,
        long receiveWindowBytes,
        long cwndPackets,
        long mssBytes,
        long retransmittedPackets,
        long bytesSent,
        long bytesReceived,
        long fastRetransmits,
        long timeouts,
        long sendQueueBytes,
        long maxSendQueueBytes,
        long rttSamples,
        long rttSumUs,
        long srttUs,
        long readBytes,
        long readCalls,
        long writeBytes,
        long writeCalls,
        long acks,
        long durationNs,
        String caState,
        long monotonicNs,
        long wallClockNs) implements Event {
    public static final String TYPE = "tcp.flow";

    @Override
    @JsonProperty("type")
    public String type() {
        return TYPE;
    }

    /** Mean RTT sample in microseconds, or -1 without samples. */
    public double meanRttUs() {
        return rttSamples == 0 ? -1 : (double) rttSumUs / rttSamples;
    }

    @Override
    public String summary() {
        return String.format("%s %s:%d -> %s:%d cwnd=%d flight=%d rwnd=%dB mss=%dB sent=%dB rcvd=%dB retrans=%d fast=%d rto=%d "
                        + "sndq=%dB(max %dB) rtt=%dus(%d samples) dur=%.3fms",
                kind, localAddress, localPort, remoteAddress, remotePort, cwndPackets, flightSizePackets, peerWindowBytes,
                mssBytes, bytesSent, bytesReceived, retransmittedPackets, fastRetransmits, timeouts, sendQueueBytes,
                maxSendQueueBytes, srttUs, rttSamples, durationNs / 1e6);
    }
}
