package io.microbpf.probe.layer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Map;

/** Java mirror of {@code struct flow_key} (bpf/include/microbpf_layer.h) and its decoder. */
public final class FlowKeyLayout {
    public static final int SIZE = 40;
    public static final int SADDR = 0;
    public static final int DADDR = 16;
    public static final int SPORT = 32;
    public static final int DPORT = 34;
    public static final int FAMILY = 36;
    public static final int PAD = 38;
    static final int AF_INET6 = 10;

    private FlowKeyLayout() {}

    public static Map<String, Integer> layout() {
        return Map.of("saddr", SADDR, "daddr", DADDR, "sport", SPORT, "dport", DPORT, "family", FAMILY, "pad", PAD);
    }

    /** A flow as its packets travel: source and destination address and port. */
    public record Flow(int family, String srcAddress, int srcPort, String dstAddress, int dstPort) {
        /** {@code 10.0.0.1:40000->10.0.0.2:80}, IPv6 in brackets. */
        public String label() {
            return endpoint(srcAddress, srcPort) + "->" + endpoint(dstAddress, dstPort);
        }

        private static String endpoint(String addr, int port) {
            return (addr.indexOf(':') >= 0 ? "[" + addr + "]" : addr) + ":" + port;
        }
    }

    /**
     * Decodes flows, reusing earlier results: ring records come from a few flows (a probe that sees
     * both ends of a connection alternates between its two directions), so most records find their
     * flow here and skip two address-to-text conversions. Direct-mapped by a hash of the key bytes,
     * {@value #SLOTS} slots, a colliding flow replaces the slot's. One per thread (not thread-safe).
     */
    public static final class Cache {
        static final int SLOTS = 64;
        private static final int LONGS = SIZE / 8;
        private final long[] keys = new long[SLOTS * LONGS]; // the key's bytes as 5 longs per slot
        private final Flow[] flows = new Flow[SLOTS];

        public Flow decode(ByteBuffer b, int off) {
            int slot = slotOf(b, off);
            int k = slot * LONGS;
            Flow f = flows[slot];
            if (f != null && b.getLong(off) == keys[k] && b.getLong(off + 8) == keys[k + 1]
                    && b.getLong(off + 16) == keys[k + 2] && b.getLong(off + 24) == keys[k + 3]
                    && b.getLong(off + 32) == keys[k + 4]) {
                return f;
            }
            f = FlowKeyLayout.decode(b, off);
            for (int i = 0; i < LONGS; i++) {
                keys[k + i] = b.getLong(off + 8 * i);
            }
            flows[slot] = f;
            return f;
        }

        /**
         * The slot of the key at {@code off}: its five longs combined and mixed (murmur3's 64-bit
         * finaliser), so that both directions of a flow, which hold the same words in another order,
         * land in different slots.
         */
        static int slotOf(ByteBuffer b, int off) {
            long h = 0;
            for (int i = 0; i < LONGS; i++) {
                h = (h ^ b.getLong(off + 8 * i)) * 0x9E3779B97F4A7C15L;
            }
            h ^= h >>> 33;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
            return (int) h & (SLOTS - 1);
        }
    }

    public static Flow decode(ByteBuffer b, int off) {
        boolean v6 = (b.getShort(off + FAMILY) & 0xffff) == AF_INET6;
        return new Flow(v6 ? 6 : 4, address(b, off + SADDR, v6), b.getShort(off + SPORT) & 0xffff,
                address(b, off + DADDR, v6), b.getShort(off + DPORT) & 0xffff);
    }

    private static String address(ByteBuffer b, int off, boolean v6) {
        byte[] raw = new byte[v6 ? 16 : 4];
        b.get(off, raw);
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }
}
