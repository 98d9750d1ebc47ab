package io.microbpf.probe.nic.internal;

import io.microbpf.probe.nic.NicSegmentEvent;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.LongUnaryOperator;

/** Java mirror of {@code struct nic_event} (src/main/bpf/nic.h) and its decoder. */
final class NicEventLayout {
    static final int SIZE = 80;
    static final int TS_NS = 0;
    static final int SADDR = 8;
    static final int DADDR = 24;
    static final int SEQ = 40;
    static final int ACK = 44;
    static final int PAYLOAD_BYTES = 48;
    static final int IFINDEX = 52;
    static final int NETNS_INO = 56;
    static final int SPORT = 60;
    static final int DPORT = 62;
    static final int IP_ID = 64;
    static final int GSO_SEGS = 66;
    static final int SEG_INDEX = 68;
    static final int FAMILY = 70;
    static final int DIRECTION = 71;
    static final int HOOK = 72;
    static final int TCP_FLAGS = 73;
    static final int FLAGS = 74;
    static final int PAD = 75;

    static final int DIR_TX = 1;
    static final String[] HOOKS = {"?", "fentry/dev_hard_start_xmit", "tp_btf/net_dev_start_xmit",
        "tracepoint/net/net_dev_start_xmit", "fentry/eth_type_trans", "tp_btf/netif_rx_entry",
        "tracepoint/net/netif_rx_entry", "tp_btf/napi_gro_receive_entry", "tracepoint/net/napi_gro_receive_entry",
        "tp_btf/netif_receive_skb_entry", "tracepoint/net/netif_receive_skb_entry"};

    private NicEventLayout() {}

    static Map<String, Integer> layout() {
        return Map.ofEntries(Map.entry("ts_ns", TS_NS), Map.entry("saddr", SADDR), Map.entry("daddr", DADDR),
                Map.entry("seq", SEQ), Map.entry("ack", ACK), Map.entry("payload_bytes", PAYLOAD_BYTES),
                Map.entry("ifindex", IFINDEX), Map.entry("netns_ino", NETNS_INO), Map.entry("sport", SPORT),
                Map.entry("dport", DPORT), Map.entry("ip_id", IP_ID), Map.entry("gso_segs", GSO_SEGS),
                Map.entry("seg_index", SEG_INDEX), Map.entry("family", FAMILY), Map.entry("direction", DIRECTION),
                Map.entry("hook", HOOK), Map.entry("tcp_flags", TCP_FLAGS), Map.entry("flags", FLAGS), Map.entry("pad", PAD));
    }

    /**
     * Decodes one record at {@code off} (absolute offsets, native byte order).
     *
     * @param clock BPF CLOCK_MONOTONIC ns to the agent's record clock
     * @param wallClock BPF CLOCK_MONOTONIC ns to the agent's wall clock
     * @param ifname ifindex to a device name
     */
    static NicSegmentEvent decode(ByteBuffer b, int off, LongUnaryOperator clock, LongUnaryOperator wallClock,
            IntFunction<String> ifname) {
        long ts = b.getLong(off + TS_NS);
        int family = b.get(off + FAMILY) & 0xff;
        int hook = b.get(off + HOOK) & 0xff;
        int ifindex = b.getInt(off + IFINDEX);
        return new NicSegmentEvent(
                (b.get(off + DIRECTION) & 0xff) == DIR_TX ? NicSegmentEvent.TX : NicSegmentEvent.RX,
                family,
                address(b, off + SADDR, family),
                b.getShort(off + SPORT) & 0xffff,
                address(b, off + DADDR, family),
                b.getShort(off + DPORT) & 0xffff,
                b.getInt(off + SEQ) & 0xffffffffL,
                b.getInt(off + ACK) & 0xffffffffL,
                b.getInt(off + PAYLOAD_BYTES),
                b.getShort(off + IP_ID) & 0xffff,
                b.get(off + TCP_FLAGS) & 0xff,
                ifindex,
                ifname.apply(ifindex),
                b.getInt(off + NETNS_INO) & 0xffffffffL,
                b.getShort(off + GSO_SEGS) & 0xffff,
                b.getShort(off + SEG_INDEX) & 0xffff,
                hook < HOOKS.length ? HOOKS[hook] : "?",
                clock.applyAsLong(ts),
                wallClock.applyAsLong(ts));
    }

    private static String address(ByteBuffer b, int off, int family) {
        byte[] raw = new byte[family == 6 ? 16 : 4];
        b.get(off, raw);
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
