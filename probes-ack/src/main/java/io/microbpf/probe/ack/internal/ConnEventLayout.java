package io.microbpf.probe.ack.internal;

import io.microbpf.api.Clocks;
import io.microbpf.probe.ack.TcpConnectionEvent;
import java.nio.ByteBuffer;
import java.util.Map;

/** Java mirror of {@code struct conn_event} (src/main/bpf/ack.h) and its decoder. */
final class ConnEventLayout {
    static final int SIZE = 112;
    static final int TS_NS = 0;
    static final int SOCK_COOKIE = 8;
    static final int START_NS = 16;
    static final int BYTES_ACKED = 24;
    static final int BYTES_RECEIVED = 32;
    static final int PID = 40;
    static final int NETNS_INO = 44;
    static final int SADDR = 48;
    static final int DADDR = 64;
    static final int SPORT = 80;
    static final int DPORT = 82;
    static final int FAMILY = 84;
    static final int KIND = 86;
    static final int HOOK = 87;
    static final int OLD_STATE = 88;
    static final int NEW_STATE = 89;
    static final int FLAGS = 90;
    static final int PAD = 91;
    static final int COMM = 96;

    static final int AF_INET6 = 10;
    static final int FLAG_FIN_RECEIVED = 1;
    static final int FLAG_FIN_ACKED = 2;
    static final int FLAG_OPEN_SEEN = 4;
    static final int FLAG_PASSIVE = 8;
    static final int TCP_SYN_SENT = 2;
    private static final String[] KINDS = {"?", "OPEN_ACTIVE", "OPEN_PASSIVE", "CLOSE"};
    private static final String[] HOOKS = {"?", "fentry/tcp_set_state", "tp_btf/inet_sock_set_state",
        "tracepoint/sock/inet_sock_set_state"};

    private ConnEventLayout() {}

    static Map<String, Integer> layout() {
        return Map.ofEntries(Map.entry("ts_ns", TS_NS), Map.entry("sock_cookie", SOCK_COOKIE),
                Map.entry("start_ns", START_NS), Map.entry("bytes_acked", BYTES_ACKED),
                Map.entry("bytes_received", BYTES_RECEIVED), Map.entry("pid", PID), Map.entry("netns_ino", NETNS_INO),
                Map.entry("saddr", SADDR), Map.entry("daddr", DADDR), Map.entry("sport", SPORT), Map.entry("dport", DPORT),
                Map.entry("family", FAMILY), Map.entry("kind", KIND), Map.entry("hook", HOOK),
                Map.entry("old_state", OLD_STATE), Map.entry("new_state", NEW_STATE), Map.entry("flags", FLAGS),
                Map.entry("pad", PAD), Map.entry("comm", COMM));
    }

    /** Decodes one record at {@code off} (absolute offsets, native byte order). */
    static TcpConnectionEvent decode(ByteBuffer b, int off) {
        long ts = b.getLong(off + TS_NS);
        long start = b.getLong(off + START_NS);
        int kindCode = b.get(off + KIND) & 0xff;
        String kind = kindCode < KINDS.length ? KINDS[kindCode] : "?";
        boolean v6 = (b.getShort(off + FAMILY) & 0xffff) == AF_INET6;
        int flags = b.get(off + FLAGS) & 0xff;
        long acked = b.getLong(off + BYTES_ACKED);
        long received = b.getLong(off + BYTES_RECEIVED);
        // tcp_sock counts sequence space: an active opener's bytes_acked includes its SYN, and a
        // FIN counts once it was acked (ours) or received (the peer's). Report payload bytes only.
        boolean active = (flags & FLAG_OPEN_SEEN) != 0 ? (flags & FLAG_PASSIVE) == 0 : kindCode == 1;
        long sent = Wire.payloadSent(acked, flags, active);
        long rcvd = Wire.payloadReceived(received, flags);
        int hook = b.get(off + HOOK) & 0xff;
        String local = Wire.address(b, off + SADDR, v6);
        return new TcpConnectionEvent(
                kind,
                Wire.family(v6, local),
                local,
                b.getShort(off + SPORT) & 0xffff,
                Wire.address(b, off + DADDR, v6),
                b.getShort(off + DPORT) & 0xffff,
                b.getInt(off + NETNS_INO) & 0xffffffffL,
                b.getInt(off + PID),
                Wire.comm(b, off + COMM),
                b.getLong(off + SOCK_COOKIE),
                sent,
                rcvd,
                start == 0 ? -1 : ts - start,
                hook < HOOKS.length ? HOOKS[hook] : "?",
                ts,
                Clocks.wallClockNs(ts));
    }
}
