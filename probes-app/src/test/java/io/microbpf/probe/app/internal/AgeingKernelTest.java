package io.microbpf.probe.app.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Clocks;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.probe.app.AppLatency;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Exchanges that never get a response: closed before an answer, aged out after
 * {@code exchange.timeout.ms}, or pushed out of the bounded pending map. Each is counted once.
 */
class AgeingKernelTest {
    static final int PORT = 23050;
    private final CapturingPublisher publisher = new CapturingPublisher();
    private AppProbeComponent probe;

    @BeforeEach
    void start() {
        KernelTestSupport.requireKernel();
        probe = new AppProbeComponent();
        probe.setPublisher(publisher);
    }

    @AfterEach
    void stop() {
        if (probe != null) { // null when requireKernel() aborted the test before it started one
            probe.deactivate();
        }
    }

    /** Opens n connections, each sending one 50-byte request that the server reads and never answers. */
    private static List<Socket> unanswered(Testbed bed, ServerSocket server, InetAddress addr, int n,
            List<Socket> accepted) throws Exception {
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket c = bed.client.submit(() -> {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(addr, PORT), 5000);
                s.getOutputStream().write(new byte[50]);
                return s;
            }).get(10, TimeUnit.SECONDS);
            clients.add(c);
            accepted.add(bed.server.submit(() -> {
                Socket s = server.accept();
                new DataInputStream(s.getInputStream()).readFully(new byte[50]);
                return s;
            }).get(10, TimeUnit.SECONDS));
        }
        return clients;
    }

    private List<AppExchangeEvent> since(long t0, String outcome, int n) throws InterruptedException {
        return publisher.await(AppExchangeEvent.class, e -> e.monotonicNs() > t0 && e.outcome().equals(outcome)
                && (e.localPort() == PORT || e.remotePort() == PORT), n, 10_000);
    }

    @Test
    void unansweredRequestsAreCountedWhenTheConnectionClosesAndWhenTheyAgeOut() throws Exception {
        probe.activate(Map.of("filter.ports", Integer.toString(PORT), "exchange.timeout.ms", "400"));
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
        long t0 = Clocks.monotonicNs();
        try (Testbed bed = Testbed.create()) {
            InetAddress addr = bed.serverAddress(false);
            ServerSocket server = bed.server.submit(() -> new ServerSocket(PORT, 50, addr)).get();
            List<Socket> accepted = new ArrayList<>();
            // closed before an answer: both ends give up their open exchange at close
            List<Socket> quick = unanswered(bed, server, addr, 1, accepted);
            accepted.get(0).close();
            quick.get(0).close();
            List<AppExchangeEvent> closed = since(t0, "CLOSED", 2);
            assertEquals(2, closed.size(), closed.toString());
            assertEquals(List.of("client", "server"), closed.stream().map(AppExchangeEvent::role).sorted().toList());
            // kept open and never answered: ages out after 400 ms, once per side
            long t1 = Clocks.monotonicNs();
            List<Socket> slow = unanswered(bed, server, addr, 1, accepted);
            List<AppExchangeEvent> timedOut = since(t1, "TIMEOUT", 2);
            assertEquals(2, timedOut.size(), timedOut.toString());
            for (AppExchangeEvent e : timedOut) {
                assertTrue(e.monotonicNs() - t1 >= 400_000_000L, "aged out too early: " + e);
            }
            accepted.get(1).close();
            slow.get(0).close();
            Thread.sleep(300);
            assertEquals(0, since(t1, "CLOSED", 0).size(), "an aged-out exchange is not counted again at close");
            server.close();
        }
        AppLatency.Counts c = probe.counts();
        assertEquals(2, c.closed(), c.toString());
        assertEquals(2, c.timedOut(), c.toString());
        assertEquals(0, c.answered(), c.toString());
    }

    @Test
    void openExchangesBeyondTheBoundOfThePendingMapAreEvictedAndCounted() throws Exception {
        probe.activate(Map.of("filter.ports", Integer.toString(PORT), "max.pending.exchanges", "128"));
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
        int n = 300; // 600 open exchanges: one per side of each connection
        try (Testbed bed = Testbed.create()) {
            InetAddress addr = bed.serverAddress(true);
            ServerSocket server = bed.server.submit(() -> new ServerSocket(PORT, 512, addr)).get();
            List<Socket> accepted = new ArrayList<>();
            List<Socket> clients = unanswered(bed, server, addr, n, accepted);
            Thread.sleep(1500); // a few expiry ticks: the eviction count is derived there
            AppLatency.Counts full = probe.counts();
            assertTrue(full.evicted() >= 2 * n - 128, "evicted " + full);
            for (Socket s : clients) {
                s.close();
            }
            for (Socket s : accepted) {
                s.close();
            }
            server.close();
            long deadline = System.currentTimeMillis() + 10_000;
            AppLatency.Counts c;
            do {
                Thread.sleep(200);
                c = probe.counts();
            } while (c.closed() + c.evicted() < 2 * n && System.currentTimeMillis() < deadline);
            System.out.println("pending map of 128, " + 2 * n + " open exchanges: " + c);
            assertEquals(2L * n, c.closed() + c.evicted(), "each open exchange is either evicted or closed, once: " + c);
            assertEquals(c.evicted(), full.evicted(), "no eviction after the connections closed");
        }
    }
}
