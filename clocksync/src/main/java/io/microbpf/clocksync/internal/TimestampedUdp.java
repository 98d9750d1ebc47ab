package io.microbpf.clocksync.internal;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * An IPv4 UDP socket whose received datagrams carry the kernel's receive timestamp
 * (SO_TIMESTAMPNS: taken when the packet entered the stack, before any thread woke up), so that t2
 * and t4 of a clock-sync exchange do not include the receiving thread's scheduling delay. The
 * kernel stamps CLOCK_REALTIME; {@link io.microbpf.api.Clocks} converts it to CLOCK_MONOTONIC.
 *
 * <p>Owner: the clock-sync endpoint; {@link #close()} closes the fd. One receiving thread at a time.
 */
final class TimestampedUdp implements AutoCloseable {
    interface Sys extends Library {
        Sys INSTANCE = Native.load("c", Sys.class);

        int socket(int domain, int type, int protocol);
        int setsockopt(int fd, int level, int name, Pointer value, int len);
        int bind(int fd, Pointer addr, int len);
        int getsockname(int fd, Pointer addr, com.sun.jna.ptr.IntByReference len);
        long sendto(int fd, Pointer buf, long len, int flags, Pointer addr, int addrLen);
        long recvmsg(int fd, Pointer msghdr, int flags);
        int close(int fd);
    }

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_REUSEADDR = 2;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_TIMESTAMPNS = 35;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    /** One received datagram. */
    record Datagram(ByteBuffer payload, InetSocketAddress from, long kernelRealtimeNs) {}

    private final int fd;
    private final Memory buf = new Memory(2048);
    private final Memory name = new Memory(16);
    private final Memory iov = new Memory(16);
    private final Memory control = new Memory(256);
    private final Memory msg = new Memory(56);
    private final Memory out = new Memory(2048);
    private final Memory to = new Memory(16);
    private volatile boolean closed;
    private boolean released;

    /** Binds address:port (0 = any port); receives time out every {@code pollMs} so close is seen. */
    TimestampedUdp(String address, int port, int pollMs) throws IOException {
        InetAddress a = InetAddress.getByName(address);
        if (!(a instanceof Inet4Address)) {
            throw new IOException("clock sync supports IPv4 only (listen.address=" + address + ")");
        }
        fd = Sys.INSTANCE.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket: errno " + Native.getLastError());
        }
        Memory one = new Memory(4);
        one.setInt(0, 1);
        Memory tv = new Memory(16);
        tv.setLong(0, pollMs / 1000);
        tv.setLong(8, (pollMs % 1000) * 1000L);
        Memory sa = sockaddr(a, port, new Memory(16));
        if (Sys.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) != 0
                || Sys.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) != 0
                || Sys.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) != 0
                || Sys.INSTANCE.bind(fd, sa, 16) != 0) {
            int errno = Native.getLastError();
            Sys.INSTANCE.close(fd);
            throw new IOException("bind " + address + ":" + port + ": errno " + errno
                    + (errno == 98 ? " (address in use)" : errno == 99 ? " (no such local address)" : ""));
        }
    }

    private static Memory sockaddr(InetAddress a, int port, Memory m) {
        m.clear();
        m.setShort(0, (short) AF_INET);
        m.setByte(2, (byte) (port >>> 8));
        m.setByte(3, (byte) port);
        m.write(4, a.getAddress(), 0, 4);
        return m;
    }

    int localPort() {
        Memory m = new Memory(16);
        com.sun.jna.ptr.IntByReference len = new com.sun.jna.ptr.IntByReference(16);
        Sys.INSTANCE.getsockname(fd, m, len);
        return ((m.getByte(2) & 0xff) << 8) | (m.getByte(3) & 0xff);
    }

    /**
     * Sends one datagram whose big-endian u64 at {@code stampOffset} is set to {@code clock} read
     * immediately before the sendto call, after everything else is prepared, so the stamp and the
     * send are as close together as user space can make them. Returns the stamp.
     */
    synchronized long sendStamped(ByteBuffer payload, int stampOffset, LongSupplier clock, InetSocketAddress dest)
            throws IOException {
        if (!(dest.getAddress() instanceof Inet4Address)) {
            throw new IOException("clock sync supports IPv4 peers only: " + dest);
        }
        int n = payload.remaining();
        byte[] b = new byte[n];
        payload.get(b);
        out.write(0, b, 0, n);
        sockaddr(dest.getAddress(), dest.getPort(), to);
        long stamp = clock.getAsLong();
        out.setLong(stampOffset, java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.BIG_ENDIAN ? stamp : Long.reverseBytes(stamp));
        if (Sys.INSTANCE.sendto(fd, out, n, 0, to, 16) < 0) {
            throw new IOException("sendto " + dest + ": errno " + Native.getLastError());
        }
        return stamp;
    }

    /** Receives one datagram; null on the poll timeout or once closed. kernelRealtimeNs is 0 if the kernel gave none. */
    Datagram receive() throws IOException {
        if (closed) {
            return null;
        }
        iov.setPointer(0, buf);
        iov.setLong(8, buf.size());
        msg.clear();
        msg.setPointer(0, name);
        msg.setInt(8, 16);
        msg.setPointer(16, iov);
        msg.setLong(24, 1);
        msg.setPointer(32, control);
        msg.setLong(40, control.size());
        long n = Sys.INSTANCE.recvmsg(fd, msg, 0);
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == EAGAIN || errno == EINTR || closed) {
                return null;
            }
            throw new IOException("recvmsg: errno " + errno);
        }
        long ts = 0;
        long controlLen = msg.getLong(40);
        for (long off = 0; off + 16 <= controlLen; ) {
            long len = control.getLong(off);
            int level = control.getInt(off + 8);
            int type = control.getInt(off + 12);
            if (len < 16) {
                break;
            }
            if (level == SOL_SOCKET && type == SO_TIMESTAMPNS && len >= 32) {
                ts = control.getLong(off + 16) * 1_000_000_000L + control.getLong(off + 24);
            }
            off += (len + 7) & ~7L;
        }
        byte[] data = buf.getByteArray(0, (int) n);
        byte[] addr = name.getByteArray(4, 4);
        int port = ((name.getByte(2) & 0xff) << 8) | (name.getByte(3) & 0xff);
        return new Datagram(ByteBuffer.wrap(data), new InetSocketAddress(InetAddress.getByAddress(addr), port), ts);
    }

    /** Makes {@link #receive()} return null from its next poll timeout on; the fd stays open. */
    void shutdown() {
        closed = true;
    }

    /** Closes the fd; call after the receiving thread has stopped (a reused fd number must never be read). */
    @Override
    public synchronized void close() {
        closed = true;
        if (!released) {
            released = true;
            Sys.INSTANCE.close(fd);
        }
    }
}
