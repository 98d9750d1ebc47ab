package io.microbpf.probe.ack;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.microbpf.api.Event;

/**
 * A TCP connection opened (actively by connect(), passively by accept) or closed, as the kernel's TCP
 * state machine saw it.
 *
 * @param kind OPEN_ACTIVE, OPEN_PASSIVE or CLOSE
 * @param family 4 or 6 (an IPv6 socket talking IPv4 through v4-mapped addresses is 4)
 * @param localAddress local IP address as text
 * @param localPort local port
 * @param remoteAddress peer IP address as text
 * @param remotePort peer port
 * @param netnsInode inode of the socket's network namespace (as in /proc/PID/ns/net)
 * @param pid process that connected or closed the socket; 0 when unknown (a passive open happens in
 *     softirq context, before any process touches the socket)
 * @param comm that process's command name; empty when unknown
 * @param socketCookie the kernel's socket cookie (stable id while the socket lives); 0 when the
 *     hook in use cannot read it
 * @param bytesSent payload bytes the peer acknowledged (tcpi_bytes_acked less the SYN and FIN)
 * @param bytesReceived payload bytes received in order (tcpi_bytes_received less the FIN)
 * @param durationNs ESTABLISHED to this event; -1 when the open happened before the probe started
 * @param hook the kernel hook that produced the event
 * @param monotonicNs CLOCK_MONOTONIC time of the state change
 * @param wallClockNs the same instant as epoch nanoseconds
 */
public record TcpConnectionEvent(
        String kind,
        int family,
        String localAddress,
        int localPort,
        String remoteAddress,
        int remotePort,
        long netnsInode,
        int pid,
        String comm,
        long socketCookie,
        long bytesSent,
        long bytesReceived,
        long durationNs,
        String hook,
        long monotonicNs,
        long wallClockNs) implements Event {
    public static final String TYPE = "tcp.connection";

    @Override
    @JsonProperty("type")
    public String type() {
        return TYPE;
    }

    public boolean isOpen() {
        return !"CLOSE".equals(kind);
    }

    @Override
    public String summary() {
        StringBuilder sb = new StringBuilder(128);
        sb.append(kind).append(' ').append(endpoint(localAddress, localPort)).append(" -> ")
                .append(endpoint(remoteAddress, remotePort));
        if (pid != 0) {
            sb.append(" pid=").append(pid).append('(').append(comm).append(')');
        }
        if (!isOpen()) {
            sb.append(" sent=").append(bytesSent).append("B rcvd=").append(bytesReceived).append('B');
            if (durationNs >= 0) {
                sb.append(" dur=").append(String.format("%.3fms", durationNs / 1e6));
            }
        }
        sb.append(" netns=").append(netnsInode);
        return sb.toString();
    }

    private static String endpoint(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
