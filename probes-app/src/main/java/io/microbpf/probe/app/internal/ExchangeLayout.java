package io.microbpf.probe.app.internal;

import io.microbpf.api.Clocks;
import io.microbpf.probe.app.AppExchangeEvent;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Java mirror of {@code struct app_exchange} (src/main/bpf/app.h) and its decoder. */
final class ExchangeLayout {
    static final int SIZE = 144;
    static final int TS_NS = 0;
    static final int SOCK_COOKIE = 8;
    static final int REQ_FIRST_NS = 16;
    static final int REQ_LAST_NS = 24;
    static final int QUEUED_NS = 32;
    static final int RESP_WRITE_NS = 40;
    static final int SENT_NS = 48;
    static final int RESP_ARRIVAL_NS = 56;
    static final int REQ_START_SEQ = 64;
    static final int REQ_END_SEQ = 68;
    static final int RESP_START_SEQ = 72;
    static final int INDEX = 76;
    static final int PID = 80;
    static final int NETNS_INO = 84;
    static final int SADDR = 88;
    static final int DADDR = 104;
    static final int SPORT = 120;
    static final int DPORT = 122;
    static final int FAMILY = 124;
    static final int ROLE = 126;
    static final int OUTCOME = 127;
    static final int COMM = 128;

    static final int AF_INET6 = 10;
    static final int ROLE_SERVER = 1;
    static final int ROLE_CLIENT = 2;
    private static final String[] OUTCOMES = {"?", "ANSWERED", "CLOSED", "TIMEOUT", "SUPERSEDED"};

    private ExchangeLayout() {}

    static Map<String, Integer> layout() {
        return Map.ofEntries(Map.entry("ts_ns", TS_NS), Map.entry("sock_cookie", SOCK_COOKIE),
                Map.entry("req_first_ns", REQ_FIRST_NS), Map.entry("req_last_ns", REQ_LAST_NS),
                Map.entry("queued_ns", QUEUED_NS), Map.entry("resp_write_ns", RESP_WRITE_NS),
                Map.entry("sent_ns", SENT_NS), Map.entry("resp_arrival_ns", RESP_ARRIVAL_NS),
                Map.entry("req_start_seq", REQ_START_SEQ), Map.entry("req_end_seq", REQ_END_SEQ),
                Map.entry("resp_start_seq", RESP_START_SEQ), Map.entry("index", INDEX), Map.entry("pid", PID),
                Map.entry("netns_ino", NETNS_INO), Map.entry("saddr", SADDR), Map.entry("daddr", DADDR),
                Map.entry("sport", SPORT), Map.entry("dport", DPORT), Map.entry("family", FAMILY),
                Map.entry("role", ROLE), Map.entry("outcome", OUTCOME), Map.entry("comm", COMM));
    }

    /** {@code later - earlier} when both were seen and in order, else -1. */
    static long between(long earlierNs, long laterNs) {
        return earlierNs != 0 && laterNs != 0 && laterNs >= earlierNs ? laterNs - earlierNs : -1;
    }

    /** Decodes one record at {@code off} (absolute offsets, native byte order). */
    static AppExchangeEvent decode(ByteBuffer b, int off) {
        return decode(b, off, new Endpoints(1));
    }

    /**
     * The text of a socket's two addresses, kept per socket cookie (a cookie is never reused while
     * the system runs) so that a connection with many exchanges formats them once. Bounded LRU.
     * Not thread-safe: one per reader thread.
     */
    static final class Endpoints extends java.util.LinkedHashMap<Long, String[]> {
        private final int max;

        Endpoints(int max) {
            super(16, 0.75f, true);
            this.max = max;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, String[]> eldest) {
            return size() > max;
        }
    }

    /** As {@link #decode(ByteBuffer, int)}, with the address texts cached in {@code endpoints}. */
    static AppExchangeEvent decode(ByteBuffer b, int off, Endpoints endpoints) {
        long ts = b.getLong(off + TS_NS);
        long reqFirst = b.getLong(off + REQ_FIRST_NS);
        long reqLast = b.getLong(off + REQ_LAST_NS);
        long queued = b.getLong(off + QUEUED_NS);
        long respWrite = b.getLong(off + RESP_WRITE_NS);
        long sent = b.getLong(off + SENT_NS);
        long respArrival = b.getLong(off + RESP_ARRIVAL_NS);
        long start = b.getInt(off + REQ_START_SEQ) & 0xffffffffL;
        long end = b.getInt(off + REQ_END_SEQ) & 0xffffffffL;
        int role = b.get(off + ROLE) & 0xff;
        int outcomeCode = b.get(off + OUTCOME) & 0xff;
        String outcome = outcomeCode < OUTCOMES.length ? OUTCOMES[outcomeCode] : "?";
        boolean server = role == ROLE_SERVER;
        boolean v6 = (b.getShort(off + FAMILY) & 0xffff) == AF_INET6;
        long cookie = b.getLong(off + SOCK_COOKIE);
        String[] addrs = cookie == 0 ? null : endpoints.get(cookie);
        if (addrs == null) {
            addrs = new String[] {address(b, off + SADDR, v6), address(b, off + DADDR, v6)};
            if (cookie != 0) {
                endpoints.put(cookie, addrs);
            }
        }
        String local = addrs[0];
        // a client learns the request's end when the response acknowledges it
        long requestBytes = server || "ANSWERED".equals(outcome) ? (end - start) & 0xffffffffL : -1;
        return new AppExchangeEvent(
                server ? AppExchangeEvent.SERVER : role == ROLE_CLIENT ? AppExchangeEvent.CLIENT : "unknown",
                outcome,
                v6 && local.indexOf(':') >= 0 ? 6 : 4,
                local,
                b.getShort(off + SPORT) & 0xffff,
                addrs[1],
                b.getShort(off + DPORT) & 0xffff,
                b.getInt(off + NETNS_INO) & 0xffffffffL,
                b.getInt(off + PID),
                comm(b, off + COMM),
                cookie,
                b.getInt(off + INDEX) & 0xffffffffL,
                start,
                requestBytes,
                server ? between(queued, reqLast) : -1,
                server ? between(reqLast, respWrite) : -1,
                server ? between(respWrite, sent) : between(reqFirst, sent),
                server ? -1 : between(reqFirst, respArrival),
                ts,
                Clocks.wallClockNs(ts));
    }

    /** A 4-byte IPv4 or 16-byte IPv6 address; v4-mapped IPv6 comes back as IPv4 text. */
    static String address(ByteBuffer b, int off, boolean v6) {
        byte[] raw = new byte[v6 ? 16 : 4];
        b.get(off, raw);
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }

    static String comm(ByteBuffer b, int off) {
        byte[] raw = new byte[16];
        b.get(off, raw);
        int n = 0;
        while (n < raw.length && raw[n] != 0) {
            n++;
        }
        return new String(raw, 0, n, StandardCharsets.UTF_8);
    }
}
