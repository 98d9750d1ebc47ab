package io.microbpf.probe.nic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.ProbeState;
import io.microbpf.clocksync.AgentClock;
import io.microbpf.probe.nic.NicSegmentEvent;
import io.microbpf.probe.nic.SegmentSampler;
import io.microbpf.probe.nic.test.ThreeHosts;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import io.microbpf.test.NetNs;
import io.microbpf.test.RawTcp;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nic probe against the real kernel, two "agents" (one probe per end host, each filtered to its
 * own namespace and device) around a router whose egress towards the server is a TBF qdisc: the
 * client sends TSO/GSO skbs of up to 64 KB, TBF cuts them into MSS-sized segments, and the server
 * receives those. The test checks that every segment the client's NIC sent is reported by the
 * server's NIC with the same identity (seq, ack, length, IP id, addresses, ports), that the payload
 * adds up to exactly the bytes sent, that filters keep each probe to its own device, and that
 * sampling by hash keeps the same segments on both sides.
 */
class NicProbeKernelTest {
    private static ThreeHosts net;
    private static int port = 24010;

    /** A stand-in agent clock with an injected offset. */
    record FixedClock(String agentId, long injectedOffsetNs) implements AgentClock {
        @Override
        public long nowNs() {
            return io.microbpf.api.Clocks.monotonicNs() + injectedOffsetNs;
        }
    }

    @BeforeAll
    static void network() {
        KernelTestSupport.requireKernel();
        net = new ThreeHosts("nl-p", "nlp", 10);
        net.shapeTowardsServer("200mbit", "4kb", "200ms"); // skbs above 4 KB are cut into segments
    }

    @AfterAll
    static void teardown() {
        if (net != null) {
            net.close();
        }
    }

    private static NicProbeComponent probe(CapturingPublisher pub, String ns, int ifindex, long sampleOneIn, long offsetNs) {
        return probe(pub, ns, ifindex, sampleOneIn, offsetNs, Map.of());
    }

    private static NicProbeComponent probe(CapturingPublisher pub, String ns, int ifindex, long sampleOneIn, long offsetNs,
            Map<String, String> extra) {
        NicProbeComponent p = new NicProbeComponent();
        p.setPublisher(pub);
        p.bindClock(new FixedClock("t", offsetNs));
        Map<String, Object> cfg = new java.util.HashMap<>(Map.of("netns", ns, "interfaces", Integer.toString(ifindex),
                "sample.one.in", Long.toString(sampleOneIn), "ringbuf.bytes", Integer.toString(16 << 20)));
        cfg.putAll(extra);
        p.activate(cfg);
        assertEquals(ProbeState.RUNNING, p.state(), "probe did not start: " + p.problem());
        return p;
    }

    /** Identity of a segment as both hosts see it. */
    record Id(String src, int sport, String dst, int dport, long seq, long ack, int len, int ipId) {
        static Id of(NicSegmentEvent e) {
            return new Id(e.srcAddress(), e.srcPort(), e.dstAddress(), e.dstPort(), e.seq(), e.ack(), e.payloadBytes(), e.ipId());
        }
    }

    /** Client sends {@code bytes} to the server and both close; returns the client's port. */
    private static int transfer(long bytes, int serverPort) throws Exception {
        Future<Long> server = net.server.submit(() -> {
            int l = RawTcp.listen(net.serverIp, serverPort);
            int s = RawTcp.accept(l);
            long n = RawTcp.drainToEof(s);
            RawTcp.close(s);
            RawTcp.close(l);
            return n;
        });
        Thread.sleep(200);
        Future<Integer> client = net.client.submit(() -> {
            int c = RawTcp.connect(net.serverIp, serverPort);
            int p = RawTcp.localPort(c);
            RawTcp.sendAll(c, bytes, 256 * 1024);
            RawTcp.shutdownWrite(c);
            RawTcp.drainToEof(c);
            RawTcp.close(c);
            return p;
        });
        int clientPort = client.get(60, TimeUnit.SECONDS);
        assertEquals(bytes, server.get(60, TimeUnit.SECONDS));
        return clientPort;
    }

    /** Waits until both probes have published everything the kernel recorded (their counts stop moving). */
    static void settle(NicProbeComponent... probes) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        long last = -1;
        int stable = 0;
        while (System.currentTimeMillis() < deadline && stable < 5) {
            Thread.sleep(200);
            long n = 0;
            for (NicProbeComponent p : probes) {
                n += p.events();
            }
            stable = n == last ? stable + 1 : 0;
            last = n;
        }
        for (NicProbeComponent p : probes) {
            assertEquals(0, p.lost(), "records lost in the kernel (ring full)");
        }
    }

    private static List<NicSegmentEvent> of(CapturingPublisher pub, String direction, int clientPort, boolean data) {
        return pub.events().stream().filter(e -> e instanceof NicSegmentEvent).map(e -> (NicSegmentEvent) e)
                .filter(e -> e.direction().equals(direction) && (e.srcPort() == clientPort || e.dstPort() == clientPort)
                        && (e.payloadBytes() > 0) == data)
                .toList();
    }

    /** Equal identity sets; on failure, says how many differ and shows a few (never the whole sets). */
    static void assertSameSegments(List<NicSegmentEvent> sent, List<NicSegmentEvent> received) {
        Set<Id> tx = new HashSet<>(sent.stream().map(Id::of).toList());
        Set<Id> rx = new HashSet<>(received.stream().map(Id::of).toList());
        if (!tx.equals(rx)) {
            List<NicSegmentEvent> onlyTx = sent.stream().filter(e -> !rx.contains(Id.of(e))).toList();
            List<NicSegmentEvent> onlyRx = received.stream().filter(e -> !tx.contains(Id.of(e))).toList();
            throw new AssertionError("sender NIC " + tx.size() + " segments, receiver NIC " + rx.size() + "; only sent: "
                    + onlyTx.size() + " e.g. " + onlyTx.stream().limit(3).toList() + "; only received: " + onlyRx.size()
                    + " e.g. " + onlyRx.stream().limit(3).toList());
        }
    }

    /**
     * For failure messages: the probe's in-kernel counters and what reached the publisher, and the
     * kernel's own view of the path (TCP retransmissions and drops per host, the router's qdisc), so
     * that a probe that missed segments can be told apart from segments that were really lost or resent.
     */
    static String diag(NicProbeComponent p, CapturingPublisher pub) {
        try {
            Thread.sleep(1100); // counters() is refreshed once a second
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return p.counters() + " events=" + p.events() + " published=" + pub.events().size() + " decodeErrors="
                + p.decodeErrors() + " lost=" + p.lost();
    }

    static String pathDiag() {
        StringBuilder b = new StringBuilder();
        for (var ns : List.of(net.client, net.router, net.server)) {
            String out = NetNs.run("ip", "netns", "exec", ns.name(), "nstat", "-asz").ignoreFailure().output();
            b.append("\n  ").append(ns.name()).append(":");
            out.lines().filter(l -> l.matches("^(TcpRetransSegs|TcpExtTCPLossProbes|TcpExtTCPSpuriousRTOs|TcpExtTCPTimeouts|"
                    + "IpOutDiscards|IpInDiscards|TcpExtTCPOFOQueue|TcpExtTCPDSACKRecv|TcpInSegs|TcpOutSegs|IpForwDatagrams)\\s.*"))
                    .forEach(l -> b.append(' ').append(l.replaceAll("\\s+", "=").replaceAll("=[0-9.]+$", "")));
        }
        b.append("\n  ").append(NetNs.run("tc", "-s", "-n", net.router.name(), "qdisc", "show", "dev", net.routerToServerDev)
                .ignoreFailure().output().replace("\n", " "));
        return b.toString();
    }

    /** For failure messages: the sent segments the receiver's NIC did not report, with the received ones around them. */
    static String missing(List<NicSegmentEvent> sent, List<NicSegmentEvent> received) {
        Set<Id> rx = new HashSet<>(received.stream().map(Id::of).toList());
        List<NicSegmentEvent> byseq = received.stream().sorted(java.util.Comparator.comparingLong(NicSegmentEvent::seq)).toList();
        StringBuilder b = new StringBuilder("missing at the receiver:");
        int shown = 0;
        for (NicSegmentEvent e : sent) {
            if (rx.contains(Id.of(e)) || shown++ >= 6) {
                continue;
            }
            b.append("\n  TX ").append(e.summary()).append(" hook=").append(e.hook());
            for (NicSegmentEvent r : byseq) {
                if (Math.abs(r.seq() - e.seq()) <= 3 * 1448) {
                    b.append("\n     RX ").append(r.summary()).append(" hook=").append(r.hook()).append(" flags=").append(r.tcpFlags())
                            .append(" t=").append(r.monotonicNs());
                }
            }
        }
        return b.toString();
    }

    @Test
    void everySegmentSentByTheClientNicIsSeenWithTheSameIdentityAtTheServerNic() throws Exception {
        CapturingPublisher atClient = new CapturingPublisher();
        CapturingPublisher atServer = new CapturingPublisher();
        long offset = 7_000_000_000L;
        NicProbeComponent c = probe(atClient, "/var/run/netns/" + net.client.name(), ThreeHosts.ifindex(net.client, net.clientDev), 1, 0);
        NicProbeComponent s = probe(atServer, "/var/run/netns/" + net.server.name(), ThreeHosts.ifindex(net.server, net.serverDev), 1, offset);
        try {
            System.out.println("nic probe hooks: " + c.hooks());
            // fentry where the kernel allows it (EPERM on our machines), else the tp_btf fallback
            assertTrue(c.hookOf("nic-tx").equals("tp_btf/net_dev_start_xmit") || c.hookOf("nic-tx").startsWith("fentry/"),
                    c.hooks().toString());
            assertTrue(c.hookOf("nic-rx").startsWith("tp_btf/netif_rx_entry") || c.hookOf("nic-rx").startsWith("fentry"), c.hooks().toString());
            long bytes = 3_000_000;
            long before = io.microbpf.api.Clocks.monotonicNs();
            int clientPort = transfer(bytes, port++);
            long after = io.microbpf.api.Clocks.monotonicNs();
            settle(c, s);

            List<NicSegmentEvent> sent = of(atClient, "TX", clientPort, true);
            List<NicSegmentEvent> received = of(atServer, "RX", clientPort, true);
            assertEquals(bytes, sent.stream().mapToLong(NicSegmentEvent::payloadBytes).sum(), () -> "payload at the client's NIC; client "
                    + diag(c, atClient) + " server " + diag(s, atServer) + pathDiag());
            assertEquals(bytes, received.stream().mapToLong(NicSegmentEvent::payloadBytes).sum(),
                    () -> "payload at the server's NIC; " + missing(sent, received) + "\nclient " + diag(c, atClient) + "\nserver "
                            + diag(s, atServer) + pathDiag());
            assertTrue(sent.stream().anyMatch(e -> e.gsoSegments() > 1), "the client sent GSO skbs");
            Set<Id> tx = new HashSet<>(sent.stream().map(Id::of).toList());
            Set<Id> rx = new HashSet<>(received.stream().map(Id::of).toList());
            assertEquals(sent.size(), tx.size(), "identities are unique within the transfer");
            assertSameSegments(sent, received);
            Set<Id> fromGso = new HashSet<>(sent.stream().filter(e -> e.gsoSegments() > 2).map(Id::of).toList());
            long cut = received.stream().filter(e -> e.gsoSegments() == 1 && fromGso.contains(Id.of(e))).count();
            assertTrue(cut > fromGso.size() / 2, "TBF cut the client's GSO skbs into segments before the server: " + cut
                    + " of " + fromGso.size() + " segments sent in GSO skbs arrived as single segments");
            for (NicSegmentEvent e : sent) {
                assertEquals(net.clientIp, e.srcAddress());
                assertEquals(net.serverIp, e.dstAddress());
                assertEquals(ThreeHosts.inode(net.client), e.netnsInode());
                assertTrue(e.monotonicNs() >= before && e.monotonicNs() <= after, "client clock has no offset: " + e);
            }
            for (NicSegmentEvent e : received) {
                assertEquals(ThreeHosts.inode(net.server), e.netnsInode(), "server probe sees only its namespace");
                assertTrue(e.monotonicNs() >= before + offset && e.monotonicNs() <= after + offset, "server clock carries the injected offset: " + e);
            }
            // the reverse direction: the server's ACKs leave its NIC and reach the client's
            Set<Id> acksOut = new HashSet<>(of(atServer, "TX", clientPort, false).stream().map(Id::of).toList());
            Set<Id> acksIn = new HashSet<>(of(atClient, "RX", clientPort, false).stream().map(Id::of).toList());
            assertFalse(acksOut.isEmpty(), "server ACKs recorded");
            assertEquals(acksOut, acksIn, "ACK identities match");
            // filters: the client probe never reports the server's device and vice versa
            assertTrue(atClient.events().stream().map(e -> (NicSegmentEvent) e).allMatch(e -> e.netnsInode() == ThreeHosts.inode(net.client)));
            // IPv4 ids: consecutive segments of one GSO skb have consecutive ids
            NicSegmentEvent g = sent.stream().filter(e -> e.gsoSegments() > 2 && e.segmentIndex() == 1).findFirst().orElseThrow();
            NicSegmentEvent g0 = sent.stream().filter(e -> e.seq() == g.seq() - g.payloadBytes() && e.segmentIndex() == 0).findFirst().orElseThrow();
            assertEquals((g0.ipId() + 1) & 0xffff, g.ipId(), g0 + " / " + g);
            System.out.printf("client TX %d data segments (%d records from GSO skbs), server RX %d; counters client %s server %s%n",
                    sent.size(), sent.stream().filter(e -> e.gsoSegments() > 1).count(), received.size(), c.counters(), s.counters());
        } finally {
            c.deactivate();
            s.deactivate();
        }
    }

    @Test
    void samplingByHashKeepsTheSameSegmentsOnBothHosts() throws Exception {
        CapturingPublisher atClient = new CapturingPublisher();
        CapturingPublisher atServer = new CapturingPublisher();
        long oneIn = 4;
        NicProbeComponent c = probe(atClient, "/var/run/netns/" + net.client.name(), ThreeHosts.ifindex(net.client, net.clientDev), oneIn, 0);
        NicProbeComponent s = probe(atServer, "/var/run/netns/" + net.server.name(), ThreeHosts.ifindex(net.server, net.serverDev), oneIn, 0);
        CapturingPublisher excluded = new CapturingPublisher();
        int serverPort = port++;
        NicProbeComponent x = probe(excluded, "/var/run/netns/" + net.client.name(), ThreeHosts.ifindex(net.client, net.clientDev), 1, 0,
                Map.of("exclude.ports", "1," + serverPort));
        try {
            long bytes = 4_000_000;
            int clientPort = transfer(bytes, serverPort);
            settle(c, s, x);
            assertTrue(excluded.events().isEmpty(), "exclude.ports drops the flow in the kernel: " + excluded.events().size());
            assertEquals(0, x.counters().segmentsSeen());
            List<NicSegmentEvent> sent = of(atClient, "TX", clientPort, true);
            List<NicSegmentEvent> received = of(atServer, "RX", clientPort, true);
            long segments = (bytes + 1447) / 1448;
            double share = sent.size() / (double) segments;
            assertTrue(share > 0.15 && share < 0.35, "about 1 in 4 data segments kept: " + sent.size() + " of ~" + segments);
            for (NicSegmentEvent e : sent) {
                assertTrue(SegmentSampler.sampled(SegmentSampler.hash(e.srcAddress(), e.dstAddress(), e.srcPort(), e.dstPort(),
                        e.ack(), e.seq()), oneIn), "kept by the hash: " + e);
            }
            try {
                assertSameSegments(sent, received);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nclient " + diag(c, atClient) + "\nserver " + diag(s, atServer) + pathDiag(), e);
            }
        } finally {
            c.deactivate();
            s.deactivate();
            x.deactivate();
        }
    }
}
