package io.microbpf.collector.e2e;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import io.microbpf.core.internal.jna.LibC;
import java.net.InetAddress;

/**
 * Crafted IPv4 TCP segments sent through a raw socket (IP_HDRINCL: the test chooses the IP id too),
 * so that two flows can carry exactly the same seq, ack, length and IP id: what a "seq ack" text
 * match would confuse. The receiver has no socket for them; the NIC probes see them all the same.
 * Sockets are created in the calling thread's network namespace; owner: the caller ({@link #close()}).
 */
final class RawSegments implements AutoCloseable {
    private static final int AF_INET = 2;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_RAW = 255;
    private final int fd;
    private final byte[] src;
    private final byte[] dst;

    RawSegments(String srcIp, String dstIp) throws Exception {
        src = InetAddress.getByName(srcIp).getAddress();
        dst = InetAddress.getByName(dstIp).getAddress();
        fd = LibC.INSTANCE.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
        if (fd < 0) {
            throw new IllegalStateException("raw socket: errno " + Native.getLastError());
        }
        Memory sa = new Memory(16);
        sa.clear();
        sa.setShort(0, (short) AF_INET);
        sa.write(4, dst, 0, 4);
        if (LibC.INSTANCE.connect(fd, sa, 16) != 0) {
            throw new IllegalStateException("connect raw: errno " + Native.getLastError());
        }
    }

    /** One segment with the given identity and {@code payload} bytes of zeros. */
    void send(int sport, int dport, long seq, long ack, int ipId, int payload) {
        int len = 20 + 20 + payload;
        Memory m = new Memory(len);
        m.clear();
        m.setByte(0, (byte) 0x45);
        m.setByte(2, (byte) (len >>> 8));
        m.setByte(3, (byte) len);
        m.setByte(4, (byte) (ipId >>> 8));
        m.setByte(5, (byte) ipId);
        m.setByte(6, (byte) 0x40); // DF
        m.setByte(8, (byte) 64);
        m.setByte(9, (byte) 6);
        m.write(12, src, 0, 4);
        m.write(16, dst, 0, 4);
        m.setByte(20, (byte) (sport >>> 8));
        m.setByte(21, (byte) sport);
        m.setByte(22, (byte) (dport >>> 8));
        m.setByte(23, (byte) dport);
        for (int i = 0; i < 4; i++) {
            m.setByte(24 + i, (byte) (seq >>> (24 - 8 * i)));
            m.setByte(28 + i, (byte) (ack >>> (24 - 8 * i)));
        }
        m.setByte(32, (byte) 0x50);
        m.setByte(33, (byte) 0x18); // PSH ACK
        m.setByte(34, (byte) 0x10);
        if (LibC.INSTANCE.send(fd, m, len, 0) != len) {
            throw new IllegalStateException("send raw: errno " + Native.getLastError());
        }
    }

    @Override
    public void close() {
        LibC.INSTANCE.close(fd);
    }
}
