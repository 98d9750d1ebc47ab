package io.microbpf.probe.app;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.microbpf.api.Event;

/**
 * One request/response exchange on one TCP connection, seen from the local socket (event type
 * {@code app.exchange}). Durations are nanoseconds of CLOCK_MONOTONIC between kernel hooks;
 * {@code -1} means "not applicable to this role" or "not seen".
 *
 * <p>Server side: {@code queueNs} = the request's last byte queued on the socket → the read that
 * returned it; {@code thinkNs} = that read → the first write of the response; {@code sendNs} = that
 * write → the first segment of the response leaving TCP. Client side: {@code requestNs} = the first
 * write of the request → the first byte of the response (which acknowledges the request's last byte)
 * queued on the socket; {@code sendNs} = that write → the request's first segment leaving TCP.
 *
 * @param role {@code server} or {@code client} (passive/active open; else who read or wrote first)
 * @param outcome ANSWERED, CLOSED (closed before a response), TIMEOUT (no response within
 *     {@code exchange.timeout.ms}), SUPERSEDED (client: a new request without a response to this one)
 * @param family 4 or 6
 * @param localAddress local IP address as text
 * @param localPort local port
 * @param remoteAddress peer IP address as text
 * @param remotePort peer port
 * @param netnsInode inode of the socket's network namespace
 * @param pid process that read (server) or wrote (client) the request
 * @param comm its command name
 * @param socketCookie the kernel's socket cookie
 * @param index exchange number on this connection, from 1
 * @param requestStartSeq TCP sequence number of the request's first byte (the same at both ends)
 * @param requestBytes request size in bytes as read (server) or written and acknowledged (client); -1 unknown
 * @param queueNs server: socket-queue wait
 * @param thinkNs server: application think time
 * @param sendNs write → first segment out
 * @param requestNs client: request → response
 * @param monotonicNs CLOCK_MONOTONIC time the exchange completed (or was given up)
 * @param wallClockNs the same instant as epoch nanoseconds
 */
public record AppExchangeEvent(
        String role,
        String outcome,
        int family,
        String localAddress,
        int localPort,
        String remoteAddress,
        int remotePort,
        long netnsInode,
        int pid,
        String comm,
        long socketCookie,
        long index,
        long requestStartSeq,
        long requestBytes,
        long queueNs,
        long thinkNs,
        long sendNs,
        long requestNs,
        long monotonicNs,
        long wallClockNs) implements Event {
    public static final String TYPE = "app.exchange";
    public static final String SERVER = "server";
    public static final String CLIENT = "client";

    @Override
    @JsonProperty("type")
    public String type() {
        return TYPE;
    }

    public boolean answered() {
        return "ANSWERED".equals(outcome);
    }

    /** The service port: the local port of a server, the remote port of a client. */
    public int servicePort() {
        return SERVER.equals(role) ? localPort : remotePort;
    }

    @Override
    public String summary() {
        StringBuilder sb = new StringBuilder(128);
        sb.append(role).append(' ').append(outcome).append(" #").append(index).append(' ')
                .append(endpoint(localAddress, localPort)).append(" -> ").append(endpoint(remoteAddress, remotePort));
        if (requestBytes >= 0) {
            sb.append(" req=").append(requestBytes).append('B');
        }
        append(sb, "queue", queueNs);
        append(sb, "think", thinkNs);
        append(sb, "send", sendNs);
        append(sb, "request", requestNs);
        if (pid != 0) {
            sb.append(" pid=").append(pid).append('(').append(comm).append(')');
        }
        return sb.toString();
    }

    private static void append(StringBuilder sb, String name, long ns) {
        if (ns >= 0) {
            sb.append(' ').append(name).append('=').append(String.format("%.3fms", ns / 1e6));
        }
    }

    private static String endpoint(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
