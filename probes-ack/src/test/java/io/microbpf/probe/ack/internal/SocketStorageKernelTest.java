package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Clocks;
import io.microbpf.api.HookReport;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import io.microbpf.test.NetNs;
import io.microbpf.test.RawTcp;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code hot_create_failed}: flows whose socket-local storage the kernel would not create. The kernel
 * charges sk_storage to the socket's option memory, bounded by the namespace's
 * {@code net.core.optmem_max}; with the bound at 0 every creation fails, for real.
 */
class SocketStorageKernelTest {
    private static final int PORT = 39_150; // and PORT + 1
    private static final long BYTES = 256 << 10;

    private final CapturingPublisher publisher = new CapturingPublisher();
    private AckProbeComponent probe;
    private NetNs ns;

    @BeforeEach
    void setUp() throws Exception {
        KernelTestSupport.requireKernel();
        ns = NetNs.create("stp-hot-" + ProcessHandle.current().pid());
        probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        probe.activate(Map.of("snapshot.interval.ms", "100", "filter.netns", Long.toString(ns.inode())));
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
    }

    @AfterEach
    void tearDown() {
        if (probe != null) {
            probe.deactivate();
        }
        if (ns != null) {
            ns.close();
        }
    }

    private void optmemMax(long bytes) {
        NetNs.run("ip", "netns", "exec", ns.name(), "sysctl", "-qw", "net.core.optmem_max=" + bytes).check();
    }

    /** A connection inside the namespace to {@code port}; both fds owned by the test. */
    private record Conn(int clientFd, int serverFd, int clientPort) implements AutoCloseable {
        @Override
        public void close() {
            RawTcp.close(clientFd);
            RawTcp.close(serverFd);
        }
    }

    /** Connects to {@code port} inside the namespace and moves {@link #BYTES} from client to server. */
    private Conn transfer(int port) throws Exception {
        int lfd = ns.submit(() -> RawTcp.listen("127.0.0.1", port)).get();
        try {
            // the namespace has one thread: connect first (the listen backlog completes it), then accept
            int cfd = ns.submit(() -> RawTcp.connect("127.0.0.1", port)).get(10, TimeUnit.SECONDS);
            int sfd = ns.submit(() -> RawTcp.accept(lfd)).get(10, TimeUnit.SECONDS);
            Conn c = new Conn(cfd, sfd, RawTcp.localPort(cfd));
            Future<Long> received = ns.submit(() -> RawTcp.recvAll(sfd, BYTES, 65536));
            RawTcp.sendAll(cfd, BYTES, 16384);
            received.get(30, TimeUnit.SECONDS); // recvAll returns once all BYTES are in
            return c;
        } finally {
            RawTcp.close(lfd);
        }
    }

    private TcpFlowEvent snapshotOf(int localPort, long afterNs) throws InterruptedException {
        List<TcpFlowEvent> s = publisher.await(TcpFlowEvent.class, e -> e.kind().equals("SNAPSHOT")
                && e.localPort() == localPort && e.monotonicNs() > afterNs, 1, 10_000);
        assertFalse(s.isEmpty(), "no snapshot of flow :" + localPort);
        return s.get(0);
    }

    @Test
    void flowsWhoseStorageTheKernelRefusesAreCountedAndTheOthersAreNot() throws Exception {
        HookReport ack = probe.hooks().stream().filter(h -> h.attachPoint().equals("ack")).findFirst().orElseThrow();
        assertTrue(ack.chosen() != null && !ack.chosen().startsWith("tracepoint/"),
                "the ACK counts live in socket storage only with a BTF-typed hook; chosen " + ack);
        assertEquals(0, probe.socketStorageFailedFlows());

        optmemMax(0);
        try (Conn refused = transfer(PORT)) {
            Thread.sleep(300); // last ACKs in
            long now = Clocks.monotonicNs();
            TcpFlowEvent client = snapshotOf(refused.clientPort(), now);
            TcpFlowEvent server = snapshotOf(PORT, now);
            assertEquals(2, probe.socketStorageFailedFlows(), "the client and the server socket of the connection");
            assertEquals(BYTES, client.bytesSent(), client.summary());
            assertEquals(0, server.acks(), "no storage, no ACK count: " + server.summary());
        }

        optmemMax(131_072);
        try (Conn stored = transfer(PORT + 1)) {
            Thread.sleep(300);
            TcpFlowEvent server = snapshotOf(PORT + 1, Clocks.monotonicNs());
            assertTrue(server.acks() > 0, "with storage the ACKs are counted: " + server.summary());
            assertEquals(2, probe.socketStorageFailedFlows(), "flows with storage are not counted");
        }
    }
}
