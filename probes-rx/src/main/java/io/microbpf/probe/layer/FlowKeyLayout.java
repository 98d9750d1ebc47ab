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
     * Decodes flows, reusing the last result while the same flow comes again (consecutive ring records
     * mostly belong to one flow: this saves two address-to-text conversions per record). One per thread.
     */
    public static final class Cache {
        private final byte[] last = new byte[SIZE];
        private final byte[] cur = new byte[SIZE];
        private Flow flow;

        public Flow decode(ByteBuffer b, int off) {
            b.get(off, cur);
            if (flow == null || !java.util.Arrays.equals(cur, last)) {
                flow = FlowKeyLayout.decode(b, off);
                System.arraycopy(cur, 0, last, 0, SIZE);
            }
            return flow;
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
