package io.microbpf.probe.ack.internal;

import io.microbpf.api.Clocks;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Java mirror of {@code struct flow_metrics} and {@code struct flow_event} (src/main/bpf/ack.h),
 * and their decoder.
 */
final class FlowMetricsLayout {
    static final int SIZE = 200;
    static final int START_NS = 0;
    static final int UPDATED_NS = 8;
    static final int BYTES_ACKED = 16;
    static final int BYTES_RECEIVED = 24;
    static final int READ_BYTES = 32;
    static final int WRITE_BYTES = 40;
    static final int RTT_SUM_US = 48;
    static final int READ_CALLS = 56;
    static final int WRITE_CALLS = 60;
    static final int RTT_SAMPLES = 64;
    static final int ACKS = 68;
    static final int SND_CWND = 72;
    static final int MSS_CACHE = 76;
    static final int SND_WND = 80;
    static final int RCV_WND = 84;
    static final int PACKETS_IN_FLIGHT = 88;
    static final int PACKETS_OUT = 92;
    static final int TOTAL_RETRANS = 96;
    static final int FAST_RETRANS = 100;
    static final int TIMEOUTS = 104;
    static final int SEND_QUEUE_BYTES = 108;
    static final int MAX_SEND_QUEUE_BYTES = 112;
    static final int SRTT_US = 116;
    static final int PID = 120;
    static final int NETNS_INO = 124;
    static final int SADDR = 128;
    static final int DADDR = 144;
    static final int SPORT = 160;
    static final int DPORT = 162;
    static final int FAMILY = 164;
    static final int CA_STATE = 166;
    static final int FLAGS = 167;
    static final int COMM = 168;
    static final int SK_PTR = 184;
    static final int SNAPSHOT_MAX_SEND_QUEUE_BYTES = 192;
    static final int PAD2 = 196;

    /** struct flow_event: u64 ts_ns, u64 sock_cookie, struct flow_metrics m. */
    static final int EVENT_SIZE = 216;
    static final int EVENT_TS_NS = 0;
    static final int EVENT_SOCK_COOKIE = 8;
    static final int EVENT_M = 16;

    private static final String[] CA_STATES = {"Open", "Disorder", "CWR", "Recovery", "Loss"};

    private FlowMetricsLayout() {}

    static Map<String, Integer> layout() {
        return Map.ofEntries(Map.entry("start_ns", START_NS), Map.entry("updated_ns", UPDATED_NS),
                Map.entry("bytes_acked", BYTES_ACKED), Map.entry("bytes_received", BYTES_RECEIVED),
                Map.entry("read_bytes", READ_BYTES), Map.entry("write_bytes", WRITE_BYTES), Map.entry("rtt_sum_us", RTT_SUM_US),
                Map.entry("read_calls", READ_CALLS), Map.entry("write_calls", WRITE_CALLS), Map.entry("rtt_samples", RTT_SAMPLES),
                Map.entry("acks", ACKS), Map.entry("snd_cwnd", SND_CWND), Map.entry("mss_cache", MSS_CACHE),
                Map.entry("snd_wnd", SND_WND), Map.entry("rcv_wnd", RCV_WND), Map.entry("packets_in_flight", PACKETS_IN_FLIGHT),
                Map.entry("packets_out", PACKETS_OUT), Map.entry("total_retrans", TOTAL_RETRANS),
                Map.entry("fast_retrans", FAST_RETRANS), Map.entry("timeouts", TIMEOUTS),
                Map.entry("send_queue_bytes", SEND_QUEUE_BYTES), Map.entry("max_send_queue_bytes", MAX_SEND_QUEUE_BYTES),
                Map.entry("srtt_us", SRTT_US), Map.entry("pid", PID), Map.entry("netns_ino", NETNS_INO),
                Map.entry("saddr", SADDR), Map.entry("daddr", DADDR), Map.entry("sport", SPORT), Map.entry("dport", DPORT),
                Map.entry("family", FAMILY), Map.entry("ca_state", CA_STATE), Map.entry("flags", FLAGS), Map.entry("comm", COMM),
                Map.entry("sk_ptr", SK_PTR), Map.entry("snapshot_max_send_queue_bytes", SNAPSHOT_MAX_SEND_QUEUE_BYTES),
                Map.entry("pad2", PAD2));
    }

    static Map<String, Integer> eventLayout() {
        return Map.of("ts_ns", EVENT_TS_NS, "sock_cookie", EVENT_SOCK_COOKIE, "m", EVENT_M);
    }

    /** A FINAL record from the ring buffer. */
    static TcpFlowEvent decodeEvent(ByteBuffer b, int off) {
        return decode("FINAL", b, off + EVENT_M, b.getLong(off + EVENT_SOCK_COOKIE), b.getLong(off + EVENT_TS_NS));
    }

    /** A map value read at {@code nowNs} (CLOCK_MONOTONIC). */
    static TcpFlowEvent decodeSnapshot(ByteBuffer b, long cookie, long nowNs) {
        return decode("SNAPSHOT", b, 0, cookie, nowNs);
    }

    private static TcpFlowEvent decode(String kind, ByteBuffer b, int m, long cookie, long ts) {
        int flags = b.get(m + FLAGS) & 0xff;
        boolean v6 = (b.getShort(m + FAMILY) & 0xffff) == ConnEventLayout.AF_INET6;
        String local = Wire.address(b, m + SADDR, v6);
        boolean active = (flags & ConnEventLayout.FLAG_PASSIVE) == 0;
        long start = b.getLong(m + START_NS);
        int ca = b.get(m + CA_STATE) & 0xff;
        return new TcpFlowEvent(
                kind,
                Wire.family(v6, local),
                local,
                b.getShort(m + SPORT) & 0xffff,
                Wire.address(b, m + DADDR, v6),
                b.getShort(m + DPORT) & 0xffff,
                u32(b, m + NETNS_INO),
                cookie,
                b.getInt(m + PID),
                Wire.comm(b, m + COMM),
                u32(b, m + PACKETS_IN_FLIGHT),
                u32(b, m + SND_WND),
                u32(b, m + RCV_WND),
                u32(b, m + SND_CWND),
                u32(b, m + MSS_CACHE),
                u32(b, m + TOTAL_RETRANS),
                Wire.payloadSent(b.getLong(m + BYTES_ACKED), flags, active),
                Wire.payloadReceived(b.getLong(m + BYTES_RECEIVED), flags),
                u32(b, m + FAST_RETRANS),
                u32(b, m + TIMEOUTS),
                u32(b, m + SEND_QUEUE_BYTES),
                u32(b, m + (kind.equals("SNAPSHOT") ? SNAPSHOT_MAX_SEND_QUEUE_BYTES : MAX_SEND_QUEUE_BYTES)),
                u32(b, m + RTT_SAMPLES),
                b.getLong(m + RTT_SUM_US),
                u32(b, m + SRTT_US),
                b.getLong(m + READ_BYTES),
                u32(b, m + READ_CALLS),
                b.getLong(m + WRITE_BYTES),
                u32(b, m + WRITE_CALLS),
                u32(b, m + ACKS),
                start == 0 ? -1 : ts - start,
                ca < CA_STATES.length ? CA_STATES[ca] : Integer.toString(ca),
                ts,
                Clocks.wallClockNs(ts));
    }

    private static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xffffffffL;
    }
}
