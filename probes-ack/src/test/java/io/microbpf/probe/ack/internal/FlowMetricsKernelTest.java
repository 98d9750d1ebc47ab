package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Clocks;
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
 * The sixteen flow metrics against ground truth: the kernel's own getsockopt(TCP_INFO) read by the
 * test on its own sockets, and the bytes and system calls the test itself made. Two network
 * namespaces joined by veth; loss and blackholes are real (nftables drops), queues are real (TBF).
 */
class FlowMetricsKernelTest {
    private static final long UP = 4L << 20;
    private static final long DOWN = 300_000;

    private final CapturingPublisher publisher = new CapturingPublisher();
    private AckProbeComponent probe;
    private NetNs a;
    private NetNs b;

    @BeforeEach
    void setUp() {
        KernelTestSupport.requireKernel();
        String tag = Long.toString(ProcessHandle.current().pid());
        a = NetNs.create("mbpf-f" + tag + "-a");
        b = NetNs.create("mbpf-f" + tag + "-b");
        NetNs.link(a, "10.200.2.1/24", b, "10.200.2.2/24");
        probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        probe.activate(Map.of("snapshot.interval.ms", "100"));
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
    }

    @AfterEach
    void tearDown() {
        if (probe != null) {
            probe.deactivate();
            assertEquals(ProbeState.STOPPED, probe.state(), "stop is clean: " + probe.problem());
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    /** A connection from namespace a (client) to b (server), both fds owned by the test. */
    record Conn(int clientFd, int serverFd, int clientPort, int serverPort) {}

    private Conn connect() throws Exception {
        int lfd = b.submit(() -> RawTcp.listen("10.200.2.2", 0)).get();
        int port = RawTcp.localPort(lfd);
        Future<Integer> accepted = b.submit(() -> RawTcp.accept(lfd));
        int cfd = a.submit(() -> RawTcp.connect("10.200.2.2", port)).get(10, TimeUnit.SECONDS);
        int sfd = accepted.get(10, TimeUnit.SECONDS);
        RawTcp.close(lfd);
        return new Conn(cfd, sfd, RawTcp.localPort(cfd), port);
    }

    /** The first SNAPSHOT of the flow with this local port taken after {@code afterNs}. */
    private TcpFlowEvent snapshotAfter(int localPort, int remotePort, long afterNs) throws InterruptedException {
        List<TcpFlowEvent> s = publisher.await(TcpFlowEvent.class, e -> e.kind().equals("SNAPSHOT") && e.localPort() == localPort
                && e.remotePort() == remotePort && e.monotonicNs() > afterNs, 1, 10_000);
        assertFalse(s.isEmpty(), "no snapshot of flow :" + localPort + " after " + afterNs);
        return s.get(0);
    }

    private static void assertMatchesTcpInfo(TcpFlowEvent f, RawTcp.TcpInfo t) {
        String ctx = f + "\nvs TCP_INFO " + t;
        assertEquals(t.sndCwnd(), f.cwndPackets(), "CWND " + ctx);
        assertEquals(t.sndMss(), f.mssBytes(), "MSS " + ctx);
        assertEquals(t.sndWnd(), f.peerWindowBytes(), "RWND (peer) " + ctx);
        assertEquals(t.rcvWnd(), f.receiveWindowBytes(), "RWND (ours) " + ctx);
        assertEquals(t.inFlight(), f.flightSizePackets(), "FlightSize " + ctx);
        assertEquals(t.totalRetrans(), f.retransmittedPackets(), "RePackets " + ctx);
        assertEquals(t.totalRto(), f.timeouts(), "Timeout " + ctx);
        assertEquals(t.rttUs(), f.srttUs(), "srtt " + ctx);
        assertTrue(f.rttSamples() > 0, "SampleRTT " + ctx);
        double mean = f.meanRttUs();
        assertTrue(mean >= t.minRttUs() && mean <= t.rttUs() + 4 * t.rttVarUs() + 1000,
                "SumRTT/SampleRTT = " + mean + "us within [min_rtt, rtt + 4 rttvar] of " + ctx);
    }

    @Test
    void bulkTransferMatchesTcpInfoAndTheBytesAndCallsTheTestMade() throws Exception {
        Conn c = connect();
        Future<Long> recvCalls = b.submit(() -> RawTcp.recvAll(c.serverFd(), UP, 65536));
        long clientSends = a.submit(() -> RawTcp.sendAll(c.clientFd(), UP, 65536)).get(30, TimeUnit.SECONDS);
        long serverRecvs = recvCalls.get(30, TimeUnit.SECONDS);
        Future<Long> clientRecvCalls = a.submit(() -> RawTcp.recvAll(c.clientFd(), DOWN, 16384));
        long serverSends = b.submit(() -> RawTcp.sendAll(c.serverFd(), DOWN, 10_000)).get(30, TimeUnit.SECONDS);
        long clientRecvs = clientRecvCalls.get(30, TimeUnit.SECONDS);
        Thread.sleep(500); // quiescent: delayed ACKs sent, nothing in flight
        RawTcp.TcpInfo ci = RawTcp.info(c.clientFd());
        RawTcp.TcpInfo si = RawTcp.info(c.serverFd());
        long readAt = Clocks.monotonicNs();

        TcpFlowEvent client = snapshotAfter(c.clientPort(), c.serverPort(), readAt);
        TcpFlowEvent server = snapshotAfter(c.serverPort(), c.clientPort(), readAt);
        System.out.println("client " + client.summary() + "\nserver " + server.summary());
        assertMatchesTcpInfo(client, ci);
        assertMatchesTcpInfo(server, si);
        assertEquals(UP, client.bytesSent());
        assertEquals(DOWN, client.bytesReceived());
        assertEquals(UP, client.writeBytes());
        assertEquals(clientSends, client.writeCalls());
        assertEquals(DOWN, client.readBytes());
        assertEquals(clientRecvs, client.readCalls());
        assertEquals(DOWN, server.bytesSent());
        assertEquals(UP, server.bytesReceived());
        assertEquals(UP, server.readBytes());
        assertEquals(serverRecvs, server.readCalls());
        assertEquals(DOWN, server.writeBytes());
        assertEquals(serverSends, server.writeCalls());
        for (TcpFlowEvent f : List.of(client, server)) {
            assertEquals(0, f.retransmittedPackets(), "clean path: " + f);
            assertEquals(0, f.fastRetransmits(), "clean path: " + f);
            assertEquals(0, f.timeouts(), "clean path: " + f);
            assertEquals(0, f.sendQueueBytes(), "all acknowledged: " + f);
            assertTrue(f.acks() > 0 && f.durationNs() > 0, f.toString());
            assertEquals(a.inode() == 0 ? 0 : (f == client ? a.inode() : b.inode()), f.netnsInode());
            assertEquals(ProcessHandle.current().pid(), f == client ? f.pid() : ProcessHandle.current().pid());
        }

        RawTcp.close(c.clientFd());
        RawTcp.close(c.serverFd());
        List<TcpFlowEvent> finals = publisher.await(TcpFlowEvent.class, e -> e.kind().equals("FINAL")
                && (e.localPort() == c.clientPort() || e.localPort() == c.serverPort()) && e.remotePort() != 0, 2, 10_000);
        assertEquals(2, finals.size(), "one FINAL per side: " + finals);
        for (TcpFlowEvent f : finals) {
            boolean isClient = f.localPort() == c.clientPort();
            assertEquals(isClient ? UP : DOWN, f.bytesSent(), f.toString());
            assertEquals(isClient ? DOWN : UP, f.bytesReceived(), f.toString());
            // the per-socket counters (socket-local storage) are merged into the final record at close
            assertEquals(isClient ? UP : DOWN, f.writeBytes(), f.toString());
            assertEquals(isClient ? clientSends : serverSends, f.writeCalls(), f.toString());
            assertEquals(isClient ? DOWN : UP, f.readBytes(), f.toString());
            assertEquals(isClient ? clientRecvs : serverRecvs, f.readCalls(), f.toString());
            TcpFlowEvent snap = isClient ? client : server;
            assertTrue(snap.rttSamples() <= f.rttSamples() && snap.acks() <= f.acks(),
                    "FINAL counts at least what the last snapshot counted: " + snap + " / " + f);
        }
    }

    private void nft(NetNs ns, String... rule) {
        List<String> argv = new java.util.ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "nft"));
        argv.addAll(List.of(rule));
        NetNs.run(argv.toArray(new String[0])).check();
    }

    /**
     * nftables in the server's namespace dropping the client's packets to the port: every
     * {@code everyNth}th one (deterministic: GRO over veth makes packets few and large, so a random
     * few percent may hit none), or all of them with 1.
     */
    private void dropToPort(int port, int everyNth) {
        nft(b, "add", "table", "inet", "mbpf");
        nft(b, "add", "chain", "inet", "mbpf", "in", "{ type filter hook input priority 0 ; }");
        if (everyNth <= 1) {
            nft(b, "add", "rule", "inet", "mbpf", "in", "tcp", "dport", Integer.toString(port), "drop");
        } else {
            nft(b, "add", "rule", "inet", "mbpf", "in", "tcp", "dport", Integer.toString(port),
                    "numgen", "inc", "mod", Integer.toString(everyNth), "==", "0", "drop");
        }
    }

    private void stopDropping() {
        nft(b, "delete", "table", "inet", "mbpf");
    }

    @Test
    void inducedLossIsCountedAsTheKernelCountsItWithFastRetransmits() throws Exception {
        Conn c = connect();
        dropToPort(c.serverPort(), 20);
        Future<Long> recv = b.submit(() -> RawTcp.recvAll(c.serverFd(), UP, 65536));
        a.submit(() -> RawTcp.sendAll(c.clientFd(), UP, 65536)).get(60, TimeUnit.SECONDS);
        recv.get(60, TimeUnit.SECONDS);
        stopDropping();
        Thread.sleep(500);
        RawTcp.TcpInfo ci = RawTcp.info(c.clientFd());
        long readAt = Clocks.monotonicNs();
        TcpFlowEvent client = snapshotAfter(c.clientPort(), c.serverPort(), readAt);
        System.out.println("loss: " + client.summary() + "\n  TCP_INFO " + ci);
        assertTrue(ci.totalRetrans() > 0, "dropping every 20th packet must cause retransmissions: " + ci);
        assertEquals(ci.totalRetrans(), client.retransmittedPackets(), "RePackets == tcpi_total_retrans");
        assertEquals(ci.totalRto(), client.timeouts(), "Timeout == tcpi_total_rto");
        assertTrue(client.fastRetransmits() > 0 && client.fastRetransmits() <= client.retransmittedPackets(),
                "fastRetrans in (0, RePackets]: " + client);
        assertEquals(UP, client.bytesSent());
        RawTcp.close(c.clientFd());
        RawTcp.close(c.serverFd());
    }

    @Test
    void aPathBlackholedLongerThanTheRtoCountsTimeouts() throws Exception {
        Conn c = connect();
        RawTcp.sendAll(c.clientFd(), 1000, 1000);
        RawTcp.recvAll(c.serverFd(), 1000, 1000); // RTT samples exist; RTO near its 200 ms floor
        dropToPort(c.serverPort(), 1);
        Future<Long> recv = b.submit(() -> RawTcp.recvAll(c.serverFd(), 50_000, 65536));
        RawTcp.sendAll(c.clientFd(), 50_000, 50_000);
        Thread.sleep(1500); // > 200 ms + 400 ms + 800 ms of backed-off RTOs
        stopDropping();
        recv.get(30, TimeUnit.SECONDS);
        Thread.sleep(300);
        RawTcp.TcpInfo ci = RawTcp.info(c.clientFd());
        long readAt = Clocks.monotonicNs();
        TcpFlowEvent client = snapshotAfter(c.clientPort(), c.serverPort(), readAt);
        System.out.println("blackhole: " + client.summary() + "\n  TCP_INFO " + ci);
        assertTrue(ci.totalRto() > 0, "the blackhole must cause RTOs: " + ci);
        assertEquals(ci.totalRto(), client.timeouts(), "Timeout == tcpi_total_rto");
        assertEquals(ci.totalRetrans(), client.retransmittedPackets(), "RePackets == tcpi_total_retrans");
        assertEquals(51_000, client.bytesSent());
        RawTcp.close(c.clientFd());
        RawTcp.close(c.serverFd());
    }

    @Test
    void aWriterFasterThanTheShapedPathFillsTheSendQueueWhichDrainsBackToZero() throws Exception {
        Conn c = connect();
        String dev = NetNs.run("ip", "-n", a.name(), "-o", "link", "show", "type", "veth").check().output().split(":")[1].strip().split("@")[0];
        NetNs.run("ip", "netns", "exec", a.name(), "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "4mbit",
                "burst", "16kb", "latency", "200ms").check();
        long total = 1_500_000;
        Future<Long> recv = b.submit(() -> RawTcp.recvAll(c.serverFd(), total, 65536));
        long start = Clocks.monotonicNs();
        a.submit(() -> RawTcp.sendAll(c.clientFd(), total, 65536)).get(60, TimeUnit.SECONDS);
        recv.get(60, TimeUnit.SECONDS);
        long drainedAt = Clocks.monotonicNs();
        Thread.sleep(400);
        TcpFlowEvent after = snapshotAfter(c.clientPort(), c.serverPort(), drainedAt + 250_000_000L);
        List<TcpFlowEvent> during = publisher.events().stream().filter(e -> e instanceof TcpFlowEvent)
                .map(e -> (TcpFlowEvent) e).filter(e -> e.kind().equals("SNAPSHOT") && e.localPort() == c.clientPort()
                        && e.monotonicNs() > start && e.monotonicNs() < drainedAt).toList();
        assertTrue(during.size() >= 3, "~3 s of shaped sending gives several snapshots: " + during.size());
        assertTrue(during.stream().anyMatch(e -> e.sendQueueBytes() > 0), "CurAppWQueue > 0 while sending");
        long maxSeen = 0;
        for (TcpFlowEvent e : during) {
            assertTrue(e.maxSendQueueBytes() >= e.sendQueueBytes(), "MaxAppWQueue >= CurAppWQueue: " + e);
            maxSeen = Math.max(maxSeen, e.maxSendQueueBytes());
        }
        assertTrue(maxSeen > 64 * 1024, "the queue held at least one 64 KiB write: " + maxSeen);
        System.out.println("tbf: max send queue " + maxSeen + " B over " + during.size() + " snapshots; after: " + after.summary());
        assertEquals(0, after.sendQueueBytes(), "drained: " + after);
        assertEquals(0, after.maxSendQueueBytes(), "drained, nothing written since: " + after);
        RawTcp.close(c.clientFd());
        RawTcp.close(c.serverFd());
    }
}
