package io.microbpf.probe.app.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Clocks;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Ground truth: a server with a known think time (it sleeps between reading a request and writing
 * the response, and measures that interval itself) and a reader that delays its read, over one
 * keep-alive connection between two namespaces, IPv4 and IPv6.
 */
class AppProbeKernelTest {
    static final int PORT = 23010;
    static final CapturingPublisher PUBLISHER = new CapturingPublisher();
    static AppProbeComponent probe;

    @BeforeAll
    static void start() {
        KernelTestSupport.requireKernel();
        probe = new AppProbeComponent();
        probe.setPublisher(PUBLISHER);
        probe.activate(Map.of("filter.ports", Integer.toString(PORT)));
        assertEquals(ProbeState.RUNNING, probe.state(), "probe did not start: " + probe.problem());
        System.out.println("app probe hooks: " + probe.hooks());
    }

    @AfterAll
    static void stop() {
        if (probe != null) {
            probe.deactivate();
        }
    }

    /** What the test's own server measured, per request. */
    /** thinkNs: read returned → write called; bracketNs: read called → write returned (an upper bound). */
    record Truth(long[] thinkNs, long[] readStartNs, long[] bracketNs) {}

    /**
     * Serves {@code n} requests of {@code reqBytes} on one accepted connection: optionally sleeps
     * {@code readDelayMs} before reading, reads the request, sleeps {@code thinkMs}, writes
     * {@code respBytes}. Returns the think time it measured itself (read returned → write called).
     */
    static Truth serve(ServerSocket server, int n, int reqBytes, int respBytes, long thinkMs, long readDelayMs)
            throws Exception {
        try (Socket s = server.accept()) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] req = new byte[reqBytes];
            byte[] resp = new byte[respBytes];
            long[] think = new long[n];
            long[] readStart = new long[n];
            long[] bracket = new long[n];
            for (int i = 0; i < n; i++) {
                if (readDelayMs > 0) {
                    Thread.sleep(readDelayMs);
                }
                readStart[i] = System.nanoTime();
                in.readFully(req);
                long read = System.nanoTime();
                if (thinkMs > 0) {
                    Thread.sleep(thinkMs);
                }
                long write = System.nanoTime();
                out.write(resp);
                bracket[i] = System.nanoTime() - readStart[i];
                think[i] = write - read;
            }
            in.read(); // the client's FIN
            return new Truth(think, readStart, bracket);
        }
    }

    /** The client: n requests on one connection, each answered before the next. Returns its local port. */
    static int ask(InetSocketAddress target, int n, int reqBytes, int respBytes) throws Exception {
        try (Socket c = new Socket()) {
            c.setTcpNoDelay(true);
            c.connect(target, 5000);
            OutputStream out = c.getOutputStream();
            InputStream in = c.getInputStream();
            byte[] req = new byte[reqBytes];
            byte[] resp = new byte[respBytes];
            for (int i = 0; i < n; i++) {
                out.write(req);
                new DataInputStream(in).readFully(resp);
            }
            return c.getLocalPort();
        }
    }

    static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static long[] values(List<AppExchangeEvent> events, java.util.function.ToLongFunction<AppExchangeEvent> f) {
        return events.stream().mapToLong(f).toArray();
    }

    /** Runs one keep-alive session through the probe; returns server-side and client-side exchanges. */
    static List<List<AppExchangeEvent>> session(boolean v6, int n, int reqBytes, int respBytes, long thinkMs,
            long readDelayMs, Truth[] truth) throws Exception {
        return session(PUBLISHER, v6, n, reqBytes, respBytes, thinkMs, readDelayMs, truth);
    }

    static List<List<AppExchangeEvent>> session(CapturingPublisher publisher, boolean v6, int n, int reqBytes,
            int respBytes, long thinkMs, long readDelayMs, Truth[] truth) throws Exception {
        long t0 = Clocks.monotonicNs(); // namespace inodes are reused: only this run's events count
        try (Testbed bed = Testbed.create()) {
            InetAddress addr = bed.serverAddress(v6);
            ServerSocket server = bed.server.submit(() -> new ServerSocket(PORT, 50, addr)).get();
            Future<Truth> srv = bed.server.submit(() -> serve(server, n, reqBytes, respBytes, thinkMs, readDelayMs));
            int clientPort = bed.client.submit(() -> ask(new InetSocketAddress(addr, PORT), n, reqBytes, respBytes))
                    .get(120, TimeUnit.SECONDS);
            truth[0] = srv.get(30, TimeUnit.SECONDS);
            server.close();
            long serverNs = bed.server.inode();
            long clientNs = bed.client.inode();
            List<AppExchangeEvent> onServer = publisher.await(AppExchangeEvent.class,
                    e -> e.monotonicNs() > t0 && e.netnsInode() == serverNs && e.localPort() == PORT && e.remotePort() == clientPort, n, 10_000);
            List<AppExchangeEvent> onClient = publisher.await(AppExchangeEvent.class,
                    e -> e.monotonicNs() > t0 && e.netnsInode() == clientNs && e.localPort() == clientPort && e.remotePort() == PORT, n, 10_000);
            Thread.sleep(300); // nothing more may come
            onServer = publisher.await(AppExchangeEvent.class,
                    e -> e.monotonicNs() > t0 && e.netnsInode() == serverNs && e.localPort() == PORT && e.remotePort() == clientPort, 0, 0);
            onClient = publisher.await(AppExchangeEvent.class,
                    e -> e.monotonicNs() > t0 && e.netnsInode() == clientNs && e.localPort() == clientPort && e.remotePort() == PORT, 0, 0);
            String family = v6 ? "fd10:230:" : "10.230.";
            for (AppExchangeEvent e : onServer) {
                assertEquals(AppExchangeEvent.SERVER, e.role(), e.summary());
                assertTrue(e.localAddress().startsWith(family) && e.family() == (v6 ? 6 : 4), e.toString());
            }
            for (AppExchangeEvent e : onClient) {
                assertEquals(AppExchangeEvent.CLIENT, e.role(), e.summary());
                assertTrue(e.remoteAddress().startsWith(family) && e.family() == (v6 ? 6 : 4), e.toString());
            }
            return List.of(onServer, onClient);
        }
    }

    /** Each side saw exactly n answered exchanges, numbered 1..n, with the request sizes sent. */
    static void assertComplete(List<AppExchangeEvent> side, int n, int reqBytes) {
        assertEquals(n, side.size(), () -> "exchanges: " + side.stream().map(AppExchangeEvent::summary).toList());
        for (int i = 0; i < n; i++) {
            AppExchangeEvent e = side.get(i);
            assertEquals("ANSWERED", e.outcome(), e.summary());
            assertEquals(i + 1, e.index(), e.summary());
            assertEquals(reqBytes, e.requestBytes(), e.summary());
            assertPhasesPresent(e);
        }
    }

    /**
     * Every phase of the role was seen and in order (a phase whose end came before its start decodes
     * as -1, e.g. a write hook that fired after the segment left): server think and send, client
     * send and request. The server's queue phase is checked by the callers (it needs the arrival).
     */
    static void assertPhasesPresent(AppExchangeEvent e) {
        if (e.role().equals(AppExchangeEvent.SERVER)) {
            assertTrue(e.thinkNs() >= 0 && e.sendNs() >= 0 && e.requestNs() == -1, e.toString());
        } else {
            assertTrue(e.requestNs() >= 0 && e.sendNs() >= 0 && e.thinkNs() == -1 && e.queueNs() == -1, e.toString());
        }
    }

    /**
     * Per exchange, against the server's own measurement (System.nanoTime after its read returned and
     * before its write; the same CLOCK_MONOTONIC as bpf_ktime_get_ns): the kernel's read event comes
     * before the first and its write event after the second, so the probe's think time can never be
     * shorter. The excess is scheduling and the JDK's copy of the buffer; bounded loosely.
     */
    /**
     * The kernel's think time lies between the server's own two brackets: it starts when the request
     * is copied (inside read, so after read was called and before it returned) and ends when the
     * response is handed to TCP (inside write). No timing tolerance: scheduling delays on a loaded
     * machine widen the outer bracket, they cannot make this fail.
     */
    static void assertThinkBoundsOwn(AppExchangeEvent server, long ownNs, long bracketNs) {
        assertTrue(server.thinkNs() >= ownNs, server.summary() + " shorter than the server's own " + ownNs + " ns");
        assertTrue(server.thinkNs() <= bracketNs, server.summary() + " longer than read called → write returned, "
                + bracketNs + " ns");
    }

    static void assertThinkBoundsOwn(List<AppExchangeEvent> server, Truth truth) {
        for (int i = 0; i < server.size(); i++) {
            assertThinkBoundsOwn(server.get(i), truth.thinkNs()[i], truth.bracketNs()[i]);
        }
    }

    /** The client's request time covers the server's queue + think + send of the same request. */
    static void assertClientCoversServer(List<AppExchangeEvent> server, List<AppExchangeEvent> client) {
        Map<Long, AppExchangeEvent> bySeq = new HashMap<>();
        server.forEach(e -> bySeq.put(e.requestStartSeq(), e));
        for (AppExchangeEvent c : client) {
            AppExchangeEvent s = bySeq.get(c.requestStartSeq());
            assertTrue(s != null, "no server exchange for " + c.summary());
            assertTrue(c.requestNs() - s.thinkNs() >= 0, c.summary() + " vs " + s.summary());
            assertTrue(c.requestNs() >= s.queueNs() + s.thinkNs() + s.sendNs(), c.summary() + " vs " + s.summary());
        }
    }

    @ParameterizedTest(name = "IPv6={0}")
    @CsvSource({"false", "true"})
    void fixedThinkTimeOf20msOverKeepAliveMedianWithin10Percent(boolean v6) throws Exception {
        Truth[] truth = new Truth[1];
        List<List<AppExchangeEvent>> sides = session(v6, 200, 120, 2000, 20, 0, truth);
        assertComplete(sides.get(0), 200, 120);
        assertComplete(sides.get(1), 200, 120);
        assertThinkBoundsOwn(sides.get(0), truth[0]);
        long think = median(values(sides.get(0), AppExchangeEvent::thinkNs));
        long truthThink = median(truth[0].thinkNs());
        System.out.printf("IPv6=%s think median %.3f ms (server's own measurement %.3f ms), queue median %.3f ms,"
                + " send median %.3f ms, client request median %.3f ms%n", v6, think / 1e6, truthThink / 1e6,
                median(values(sides.get(0), AppExchangeEvent::queueNs)) / 1e6,
                median(values(sides.get(0), AppExchangeEvent::sendNs)) / 1e6,
                median(values(sides.get(1), AppExchangeEvent::requestNs)) / 1e6);
        assertTrue(Math.abs(think - 20_000_000) <= 2_000_000, "think median " + think + " ns not within 10 % of 20 ms");
        assertTrue(Math.abs(think - truthThink) <= 500_000, "think median " + think + " ns vs the server's own " + truthThink);
        assertClientCoversServer(sides.get(0), sides.get(1));
    }

    @ParameterizedTest(name = "IPv6={0}")
    @CsvSource({"false", "true"})
    void zeroThinkTimeMedianUnder1ms(boolean v6) throws Exception {
        Truth[] truth = new Truth[1];
        List<List<AppExchangeEvent>> sides = session(v6, 200, 80, 300, 0, 0, truth);
        assertComplete(sides.get(0), 200, 80);
        assertComplete(sides.get(1), 200, 80);
        assertThinkBoundsOwn(sides.get(0), truth[0]);
        long think = median(values(sides.get(0), AppExchangeEvent::thinkNs));
        System.out.printf("IPv6=%s zero think: median %.1f µs (server's own %.1f µs)%n", v6, think / 1e3,
                median(truth[0].thinkNs()) / 1e3);
        assertTrue(think < 1_000_000, "think median " + think + " ns");
        assertClientCoversServer(sides.get(0), sides.get(1));
    }

    @ParameterizedTest(name = "IPv6={0}")
    @CsvSource({"false", "true"})
    void readerDelaying30msGivesSocketQueueWaitOfAtLeast25ms(boolean v6) throws Exception {
        Truth[] truth = new Truth[1];
        List<List<AppExchangeEvent>> sides = session(v6, 40, 64, 64, 0, 30, truth);
        assertComplete(sides.get(0), 40, 64);
        assertComplete(sides.get(1), 40, 64);
        assertThinkBoundsOwn(sides.get(0), truth[0]);
        long queue = median(values(sides.get(0), AppExchangeEvent::queueNs));
        System.out.printf("IPv6=%s delayed reader: queue median %.3f ms, think median %.1f µs%n", v6, queue / 1e6,
                median(values(sides.get(0), AppExchangeEvent::thinkNs)) / 1e3);
        assertTrue(queue >= 25_000_000, "queue median " + queue + " ns");
        assertTrue(queue <= 40_000_000, "queue median " + queue + " ns: more than the delay");
        assertClientCoversServer(sides.get(0), sides.get(1));
    }

    @ParameterizedTest(name = "IPv6={0}")
    @CsvSource({"false", "true"})
    void requestsAndResponsesSpanningManySegmentsAreOneExchangeEach(boolean v6) throws Exception {
        Truth[] truth = new Truth[1];
        List<List<AppExchangeEvent>> sides = session(v6, 10, 200_000, 1_000_000, 5, 0, truth);
        assertComplete(sides.get(0), 10, 200_000);
        assertComplete(sides.get(1), 10, 200_000);
        assertThinkBoundsOwn(sides.get(0), truth[0]);
        long think = median(values(sides.get(0), AppExchangeEvent::thinkNs));
        long truthThink = median(truth[0].thinkNs());
        System.out.printf("IPv6=%s 200 KB requests / 1 MB responses: think median %.3f ms (server's own %.3f ms)%n", v6,
                think / 1e6, truthThink / 1e6);
        assertTrue(Math.abs(think - truthThink) <= 500_000, "think median " + think + " ns vs the server's own " + truthThink);
        assertClientCoversServer(sides.get(0), sides.get(1));
    }

    /**
     * A client pipelines three 100-byte requests in one write; the server reads and answers them one at
     * a time with 10 ms think each. The server side splits them by its reads: three exchanges whose
     * request bytes follow each other, the second and third having waited in the socket queue while the
     * server worked on the ones before. The client side sees one turn (one write, then responses): one
     * exchange of 300 bytes, answered by the first response.
     */
    @ParameterizedTest(name = "IPv6={0}")
    @CsvSource({"false", "true"})
    void pipelinedRequestsAreSplitByTheServersReads(boolean v6) throws Exception {
        int batches = 5;
        long t0 = Clocks.monotonicNs();
        try (Testbed bed = Testbed.create()) {
            InetAddress addr = bed.serverAddress(v6);
            ServerSocket server = bed.server.submit(() -> new ServerSocket(PORT, 50, addr)).get();
            Future<Truth> srv = bed.server.submit(() -> serve(server, 3 * batches, 100, 500, 10, 0));
            int clientPort = bed.client.submit(() -> {
                try (Socket c = new Socket()) {
                    c.setTcpNoDelay(true);
                    c.connect(new InetSocketAddress(addr, PORT), 5000);
                    for (int b = 0; b < batches; b++) {
                        c.getOutputStream().write(new byte[300]); // three requests at once
                        new DataInputStream(c.getInputStream()).readFully(new byte[1500]);
                    }
                    return c.getLocalPort();
                }
            }).get(60, TimeUnit.SECONDS);
            Truth truth = srv.get(30, TimeUnit.SECONDS);
            server.close();
            long serverNs = bed.server.inode();
            long clientNs = bed.client.inode();
            List<AppExchangeEvent> onServer = PUBLISHER.await(AppExchangeEvent.class, e -> e.monotonicNs() > t0
                    && e.netnsInode() == serverNs && e.localPort() == PORT && e.remotePort() == clientPort, 3 * batches, 10_000);
            List<AppExchangeEvent> onClient = PUBLISHER.await(AppExchangeEvent.class, e -> e.monotonicNs() > t0
                    && e.netnsInode() == clientNs && e.localPort() == clientPort, batches, 10_000);
            assertComplete(onServer, 3 * batches, 100);
            assertComplete(onClient, batches, 300);
            for (int b = 0; b < batches; b++) {
                AppExchangeEvent c = onClient.get(b);
                for (int i = 0; i < 3; i++) {
                    AppExchangeEvent s = onServer.get(3 * b + i);
                    assertEquals((c.requestStartSeq() + 100L * i) & 0xffffffffL, s.requestStartSeq(), s.summary());
                    assertThinkBoundsOwn(s, truth.thinkNs()[3 * b + i], truth.bracketNs()[3 * b + i]);
                    // queued behind the requests before it: at least their think time
                    assertTrue(s.queueNs() >= i * 10_000_000L, s.summary());
                }
                AppExchangeEvent first = onServer.get(3 * b);
                assertTrue(c.requestNs() >= first.queueNs() + first.thinkNs() + first.sendNs(), c.summary() + " vs " + first.summary());
                assertTrue(c.requestNs() < onServer.get(3 * b + 1).thinkNs() + first.thinkNs(),
                        "answered by the first response: " + c.summary());
            }
        }
    }
}
