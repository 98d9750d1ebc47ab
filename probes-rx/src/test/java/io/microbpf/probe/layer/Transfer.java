package io.microbpf.probe.layer;

import io.microbpf.api.Clocks;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One TCP transfer from host a (client) to host b (server) of a {@link LatNet}, with the ground
 * truth the tests compare against: when (CLOCK_MONOTONIC, the clock BPF programs read) each chunk
 * was handed to send() and when each read() returned, at which byte offsets.
 */
public final class Transfer {
    /** A mark: {@code offset} bytes of the stream at {@code timeNs}. */
    public record Mark(long offset, long timeNs) {}

    /**
     * @param clientPort the client's ephemeral port
     * @param sends before each send(): the offset of its first byte and the time
     * @param reads after each read(): the offset just past its last byte and the time
     */
    public record Result(int clientPort, int serverPort, List<Mark> sends, List<Mark> reads) {
        /** Time just before the send() that carried byte {@code offset}. */
        public long sentNs(long offset) {
            long t = -1;
            for (Mark m : sends) {
                if (m.offset() <= offset) {
                    t = m.timeNs();
                } else {
                    break;
                }
            }
            return t;
        }

        /** Time just after the read() that returned byte {@code offset}. */
        public long readNs(long offset) {
            for (Mark m : reads) {
                if (m.offset() > offset) {
                    return m.timeNs();
                }
            }
            return -1;
        }
    }

    private Transfer() {}

    /**
     * Sends {@code bytes} in chunks of {@code chunk}; the server reads with a buffer of
     * {@code readBuf} bytes and sleeps {@code readDelayMs} before each read (0: reads at once).
     * Optionally a pause between client chunks ({@code sendGapMs}).
     */
    public static Result run(LatNet net, boolean v6, int port, long bytes, int chunk, int readBuf, long readDelayMs,
            long sendGapMs) throws Exception {
        return run(net, v6, port, bytes, chunk, readBuf, readDelayMs, sendGapMs, false);
    }

    /**
     * As above; {@code realtimeReader}: the server's reading thread runs SCHED_FIFO (chrt), so that on
     * a loaded shared machine "reads at once" really means at once and not "when the scheduler gets
     * to it".
     */
    public static Result run(LatNet net, boolean v6, int port, long bytes, int chunk, int readBuf, long readDelayMs,
            long sendGapMs, boolean realtimeReader) throws Exception {
        String server = v6 ? net.v6B : net.v4B;
        ServerSocket ss = net.b.submit(() -> new ServerSocket(port, 8, InetAddress.getByName(server))).get(10, TimeUnit.SECONDS);
        try {
            Future<List<Mark>> reader = net.b.submit(() -> {
                List<Mark> reads = new ArrayList<>();
                if (realtimeReader) {
                    String tid = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).getFileName().toString();
                    io.microbpf.test.NetNs.run("chrt", "-f", "-p", "50", tid).check();
                }
                try (Socket s = ss.accept()) {
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[readBuf];
                    long total = 0;
                    while (true) {
                        if (readDelayMs > 0) {
                            Thread.sleep(readDelayMs);
                        }
                        int n = in.read(buf);
                        long t = Clocks.monotonicNs();
                        if (n < 0) {
                            break;
                        }
                        total += n;
                        reads.add(new Mark(total, t));
                    }
                } finally {
                    if (realtimeReader) {
                        String tid = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).getFileName().toString();
                        io.microbpf.test.NetNs.run("chrt", "-o", "-p", "0", tid).check();
                    }
                }
                return reads;
            });
            Future<Object[]> writer = net.a.submit(() -> {
                List<Mark> sends = new ArrayList<>();
                try (Socket c = new Socket()) {
                    c.setTcpNoDelay(true);
                    c.connect(new InetSocketAddress(server, port), 5000);
                    OutputStream out = c.getOutputStream();
                    byte[] buf = new byte[chunk];
                    for (long off = 0; off < bytes; off += chunk) {
                        int n = (int) Math.min(chunk, bytes - off);
                        sends.add(new Mark(off, Clocks.monotonicNs()));
                        out.write(buf, 0, n);
                        if (sendGapMs > 0) {
                            Thread.sleep(sendGapMs);
                        }
                    }
                    c.shutdownOutput();
                    c.getInputStream().read(); // wait for the server's close
                    return new Object[] {c.getLocalPort(), sends};
                }
            });
            Object[] w = writer.get(120, TimeUnit.SECONDS);
            List<Mark> reads = reader.get(120, TimeUnit.SECONDS);
            @SuppressWarnings("unchecked")
            List<Mark> sends = (List<Mark>) w[1];
            return new Result((Integer) w[0], port, sends, reads);
        } finally {
            ss.close();
        }
    }
}
