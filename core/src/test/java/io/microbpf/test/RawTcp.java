package io.microbpf.test;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;
import io.microbpf.core.internal.jna.LibC;
import java.net.InetAddress;

/**
 * IPv4 TCP through libc, for tests that need ground truth the JDK hides: every send()/recv() is one
 * system call the test counts, and {@link #info(int)} is the kernel's own getsockopt(TCP_INFO).
 * Sockets are created in the network namespace of the calling thread (see {@link NetNs#submit}).
 * Owner of each fd: the test, which closes it.
 */
public final class RawTcp {
    private static final int AF_INET = 2;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_REUSEADDR = 2;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final LibC C = LibC.INSTANCE;

    private RawTcp() {}

    /**
     * The fields of struct tcp_info (linux/tcp.h) the tests compare against; the kernel's counters.
     */
    public record TcpInfo(int caState, int sndMss, long unacked, long sacked, long lost, long retrans, long rttUs,
            long rttVarUs, long sndCwnd, long totalRetrans, long bytesAcked, long bytesReceived, long minRttUs,
            long sndWnd, long rcvWnd, int totalRto) {
        /** Packets in flight as the kernel counts them (tcp_packets_in_flight). */
        public long inFlight() {
            return unacked - (sacked + lost) + retrans;
        }
    }

    private static Memory sockaddr(String ip, int port) throws Exception {
        Memory a = new Memory(16);
        a.clear();
        a.setShort(0, (short) AF_INET);
        a.setByte(2, (byte) (port >>> 8));
        a.setByte(3, (byte) port);
        a.write(4, InetAddress.getByName(ip).getAddress(), 0, 4);
        return a;
    }

    private static int check(int rc, String what) {
        if (rc < 0) {
            throw new IllegalStateException(what + " failed: errno " + Native.getLastError());
        }
        return rc;
    }

    /** A listening socket on ip:port (port 0: any). */
    public static int listen(String ip, int port) throws Exception {
        int fd = check(C.socket(AF_INET, SOCK_STREAM, 0), "socket");
        Memory one = new Memory(4);
        one.setInt(0, 1);
        C.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
        check(C.bind(fd, sockaddr(ip, port), 16), "bind");
        check(C.listen(fd, 4096), "listen");
        return fd;
    }

    public static int localPort(int fd) {
        Memory a = new Memory(16);
        IntByReference len = new IntByReference(16);
        check(C.getsockname(fd, a, len), "getsockname");
        return ((a.getByte(2) & 0xff) << 8) | (a.getByte(3) & 0xff);
    }

    public static int accept(int listenFd) {
        return check(C.accept(listenFd, null, null), "accept");
    }

    public static int connect(String ip, int port) throws Exception {
        int fd = check(C.socket(AF_INET, SOCK_STREAM, 0), "socket");
        check(C.connect(fd, sockaddr(ip, port), 16), "connect");
        return fd;
    }

    /**
     * Sends exactly {@code total} bytes in send() calls of at most {@code chunk} bytes; returns how
     * many send() calls returned data.
     */
    public static long sendAll(int fd, long total, int chunk) {
        Memory buf = new Memory(chunk);
        buf.clear();
        long calls = 0;
        for (long left = total; left > 0; ) {
            long n = C.send(fd, buf, Math.min(left, chunk), 0);
            if (n <= 0) {
                throw new IllegalStateException("send failed: errno " + Native.getLastError());
            }
            left -= n;
            calls++;
        }
        return calls;
    }

    /** Receives exactly {@code total} bytes; returns how many recv() calls returned data. */
    public static long recvAll(int fd, long total, int chunk) {
        Memory buf = new Memory(chunk);
        long calls = 0;
        for (long left = total; left > 0; ) {
            long n = C.recv(fd, buf, Math.min(left, chunk), 0);
            if (n <= 0) {
                throw new IllegalStateException("recv returned " + n + " with " + left + " bytes to go: errno " + Native.getLastError());
            }
            left -= n;
            calls++;
        }
        return calls;
    }

    /** Reads until the peer's FIN; returns the bytes read. */
    public static long drainToEof(int fd) {
        Memory buf = new Memory(65536);
        long total = 0;
        long n;
        while ((n = C.recv(fd, buf, 65536, 0)) > 0) {
            total += n;
        }
        return total;
    }

    public static void shutdownWrite(int fd) {
        C.shutdown(fd, 1);
    }

    public static void close(int fd) {
        C.close(fd);
    }

    /** getsockopt(TCP_INFO). */
    public static TcpInfo info(int fd) {
        Memory m = new Memory(256);
        m.clear();
        IntByReference len = new IntByReference(256);
        check(C.getsockopt(fd, IPPROTO_TCP, TCP_INFO, m, len), "getsockopt(TCP_INFO)");
        if (len.getValue() < 244) {
            throw new IllegalStateException("struct tcp_info is only " + len.getValue() + " bytes on this kernel");
        }
        return new TcpInfo(m.getByte(1), m.getInt(16), u32(m, 24), u32(m, 28), u32(m, 32), u32(m, 36), u32(m, 68),
                u32(m, 72), u32(m, 80), u32(m, 100), m.getLong(120), m.getLong(128), u32(m, 148), u32(m, 228),
                u32(m, 232), m.getShort(240) & 0xffff);
    }

    private static long u32(Memory m, long off) {
        return m.getInt(off) & 0xffffffffL;
    }
}
