package io.microbpf.probe.ack.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Field decoders shared by the ack probe's record mirrors. */
final class Wire {
    private Wire() {}

    /** A 4-byte IPv4 or 16-byte IPv6 address at {@code off}; v4-mapped IPv6 comes back as IPv4 text. */
    static String address(ByteBuffer b, int off, boolean v6) {
        byte[] raw = new byte[v6 ? 16 : 4];
        b.get(off, raw);
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }

    /**
     * 4 or 6 for a socket of the kernel's family {@code v6} whose local address decoded to
     * {@code localText}: an IPv6 socket carrying IPv4 (v4-mapped addresses) is IPv4 traffic.
     */
    static int family(boolean v6, String localText) {
        return v6 && localText.indexOf(':') >= 0 ? 6 : 4;
    }

    /** A NUL-terminated 16-byte task comm. */
    static String comm(ByteBuffer b, int off) {
        byte[] raw = new byte[16];
        b.get(off, raw);
        int n = 0;
        while (n < raw.length && raw[n] != 0) {
            n++;
        }
        return new String(raw, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * Payload bytes sent from tcp_sock.bytes_acked, which counts sequence space: an active opener's
     * SYN, and our FIN once acknowledged.
     */
    static long payloadSent(long bytesAcked, int flags, boolean active) {
        return Math.max(0, bytesAcked - (active ? 1 : 0) - ((flags & ConnEventLayout.FLAG_FIN_ACKED) != 0 ? 1 : 0));
    }

    /** Payload bytes received from tcp_sock.bytes_received, which counts the peer's FIN. */
    static long payloadReceived(long bytesReceived, int flags) {
        return Math.max(0, bytesReceived - ((flags & ConnEventLayout.FLAG_FIN_RECEIVED) != 0 ? 1 : 0));
    }
}
