package io.microbpf.probe.tx.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Event;
import io.microbpf.api.HookReport;
import io.microbpf.api.ProbeState;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.layer.LatNet;
import io.microbpf.probe.layer.LayerLatencyEvent;
import io.microbpf.probe.layer.LayerTestSupport;
import io.microbpf.probe.layer.Transfer;
import io.microbpf.probe.rx.internal.RxProbeComponent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tx probe (with the rx probe for the all-layers check) against the real kernel: TCP between
 * two network namespaces over veth; queueing delay from a real TBF qdisc the test installs.
 */
class TxProbeKernelTest {
    private static LatNet net;
    private final CapturingPublisher publisher = new CapturingPublisher();
    private TxProbeComponent tx;
    private RxProbeComponent rx;

    @BeforeAll
    static void network() {
        KernelTestSupport.requireKernel();
        net = LatNet.create("tx", 21);
    }

    @AfterAll
    static void removeNetwork() {
        if (net != null) {
            net.close();
        }
    }

    private void startTx(Map<String, Object> config) throws InterruptedException {
        tx = new TxProbeComponent();
        tx.setPublisher(publisher);
        tx.activate(config);
        assertEquals(ProbeState.RUNNING, tx.state(), "tx did not start: " + tx.problem());
        Thread.sleep(400); // the reader thread writes the knobs on its first tick
    }

    private void startRx(Map<String, Object> config) throws InterruptedException {
        rx = new RxProbeComponent();
        rx.setPublisher(publisher);
        rx.activate(config);
        assertEquals(ProbeState.RUNNING, rx.state(), "rx did not start: " + rx.problem());
        Thread.sleep(400);
    }

    @AfterEach
    void stop() {
        if (tx != null) {
            tx.deactivate();
        }
        if (rx != null) {
            rx.deactivate();
        }
        qdiscDelete();
    }

    private static void qdiscDelete() {
        io.microbpf.test.NetNs.run("tc", "-n", net.a.name(), "qdisc", "del", "dev", net.ifA, "root").ignoreFailure();
    }

    private static LatencySummary series(io.microbpf.api.latency.LatencyReport r, String layer, String flow) {
        return LayerTestSupport.flowSeries(r, layer, flow).orElseThrow(
                () -> new AssertionError("no " + layer + " series for " + flow + ": " + LayerTestSupport.describe(r)));
    }

    @Test
    void fentryIsRejectedHereAndEveryRequiredBoundaryHasAFallback() throws Exception {
        startTx(Map.of());
        List<HookReport> hooks = tx.hooks();
        System.out.println("tx hooks: " + hooks);
        for (HookReport h : hooks) {
            boolean hasFentry = TxProbeComponent.hookLists().stream().filter(p -> p.name().equals(h.attachPoint()))
                    .flatMap(p -> p.candidates().stream()).anyMatch(c -> c.hook().startsWith("fentry/"));
            if (hasFentry && (h.chosen() == null || !h.chosen().startsWith("fentry/"))) {
                assertTrue(h.rejected().stream().anyMatch(r -> r.startsWith("fentry/")), "fentry rejection reported: " + h);
            }
        }
    }

    /**
     * A bulk transfer a -> b, IPv4 and IPv6: all seven layers have samples for the flow (RX on b's side of the
     * flow, TX on a's); no layer of any recorded packet is negative; each TX packet's path lies
     * between the send() that handed its first byte over and the read() that returned its last.
     */
    @Test
    void bulkTransferEveryLayerTimedNoneNegative() throws Exception {
        startRx(Map.of("mode", "events"));
        startTx(Map.of("mode", "events"));
        for (boolean v6 : new boolean[] {false, true}) {
            bulk(v6, v6 ? 21202 : 21201);
        }
        assertEquals(0L, tx.counters().get("tx.negative"), tx.counters().toString());
        assertEquals(0L, rx.counters().get("rx.negative"), rx.counters().toString());
        assertEquals(0, tx.lost() + rx.lost());
    }

    private void bulk(boolean v6, int port) throws Exception {
        Transfer.Result t = Transfer.run(net, v6, port, 8L << 20, 64 << 10, 64 << 10, 0, 0);
        Thread.sleep(600);
        String flow = LayerTestSupport.label(v6 ? net.v6A : net.v4A, t.clientPort(), v6 ? net.v6B : net.v4B, port);
        for (String layer : RxProbeComponent.LAYERS_PUBLIC) {
            assertTrue(series(rx, layer, flow).count() > 0, layer);
        }
        for (String layer : TxProbeComponent.LAYERS) {
            LatencySummary s = series(tx, layer, flow);
            System.out.println((v6 ? "v6 " : "v4 ") + layer + " n=" + s.count() + " p50=" + s.p50Ns() + " p99=" + s.p99Ns());
            assertTrue(s.count() > 0, s.toString());
            // every packet of the flow that reached the driver has one record (no sampling, none lost) and one
            // sample per layer it was timed in, in the flow's histograms: the counts agree layer by layer
            long records = publisher.events().stream().filter(e -> e instanceof LayerLatencyEvent l
                    && l.direction().equals("TX") && l.layer().equals(layer) && l.srcPort() == t.clientPort()
                    && l.dstPort() == port).count();
            assertEquals(records, s.count(), layer + " records vs the flow's histogram");
        }
        Map<Long, Map<String, LayerLatencyEvent>> segs = LayerTestSupport.segments(publisher, "TX", t.clientPort(), port);
        Map<Long, Map<String, LayerLatencyEvent>> rxSegs = LayerTestSupport.segments(publisher, "RX", t.clientPort(), port);
        long firstSeq = rxSegs.values().stream().map(m -> m.get("RX-TCP")).filter(e -> e != null)
                .min((x, y) -> Long.compare(x.monotonicNs(), y.monotonicNs())).orElseThrow().seq();
        int checked = 0;
        for (Map<String, LayerLatencyEvent> seg : segs.values()) {
            for (LayerLatencyEvent e : seg.values()) {
                assertTrue(e.durationNs() >= 0, "negative: " + e);
            }
            LayerLatencyEvent tcp = seg.get("TX-TCP");
            LayerLatencyEvent mac = seg.get("TX-MAC");
            if (tcp == null || mac == null || tcp.payloadBytes() == 0) {
                continue;
            }
            long offset = (tcp.seq() - firstSeq) & 0xffffffffL;
            if (offset >= 8L << 20) {
                continue; // the FIN
            }
            assertTrue(tcp.startMonotonicNs() >= t.sentNs(offset), "handed to TCP before send() was called: " + tcp);
            assertTrue(mac.monotonicNs() <= t.readNs(offset), "on the wire after the receiver read it: " + mac);
            checked++;
        }
        System.out.println((v6 ? "v6" : "v4") + " TX: " + segs.size() + " packets recorded, " + checked + " checked against send()/read()");
        assertTrue(checked > 10, "checked " + checked);
    }

    /** A TBF qdisc at 20 Mbit/s on the sender's veth: QDISC median > 1 ms; without it back near zero. */
    @Test
    void qdiscLayerShowsARealQueueAndFallsBackWhenItIsRemoved() throws Exception {
        startTx(Map.of());
        net.qdiscA("replace", "root", "tbf", "rate", "20mbit", "burst", "16kb", "latency", "500ms");
        Transfer.Result shaped = Transfer.run(net, false, 21211, 1L << 20, 64 << 10, 64 << 10, 0, 0);
        qdiscDelete();
        Transfer.Result free = Transfer.run(net, false, 21212, 1L << 20, 64 << 10, 64 << 10, 0, 0);
        Thread.sleep(300);
        LatencySummary q1 = series(tx, "TX-QDISC", LayerTestSupport.label(net.v4A, shaped.clientPort(), net.v4B, 21211));
        LatencySummary q2 = series(tx, "TX-QDISC", LayerTestSupport.label(net.v4A, free.clientPort(), net.v4B, 21212));
        System.out.println("TX-QDISC with TBF: n=" + q1.count() + " p50=" + q1.p50Ns() + " p99=" + q1.p99Ns()
                + "\nTX-QDISC without:  n=" + q2.count() + " p50=" + q2.p50Ns() + " p99=" + q2.p99Ns() + "\n" + tx.counters());
        assertTrue(q1.count() >= 10 && q1.p50Ns() > 1_000_000L, "with TBF: " + q1);
        // and no more than the queue can hold: TBF's limit is rate × latency + burst, so no packet waits
        // longer than ~507 ms; the kernel's buckets round up by at most 12.5 %
        assertTrue(q1.maxNs() <= 570_000_000L, "a packet cannot wait longer than the TBF queue allows: " + q1);
        assertTrue(q2.count() >= 10 && q2.p50Ns() < 50_000L, "without: " + q2);
    }

    /**
     * Histogram -> events -> histogram through applyConfig while running: no reload (the kernel's
     * counts carry on), records only while in events mode; with 1-in-4 sampling both ends pick
     * the same segments (the same hash of the header).
     */
    @Test
    void modeSwitchesLiveAndBothEndsSampleTheSameSegments() throws Exception {
        startTx(Map.of());
        startRx(Map.of());
        Transfer.Result h1 = Transfer.run(net, false, 21221, 2L << 20, 64 << 10, 64 << 10, 0, 0);
        Thread.sleep(300);
        String f1 = LayerTestSupport.label(net.v4A, h1.clientPort(), net.v4B, 21221);
        long before = series(tx, "TX-MAC", f1).count();
        assertTrue(before > 0);
        assertTrue(publisher.events().isEmpty(), "histogram mode publishes no records");
        assertEquals(0L, tx.counters().get("tx.mode.events"), "the kernel object runs in histogram mode");

        tx.applyConfig(Map.of("mode", "events", "events.sample.every", "4"));
        rx.applyConfig(Map.of("mode", "events", "events.sample.every", "4"));
        assertEquals("events", tx.mode());
        Thread.sleep(400);
        assertEquals(1L, tx.counters().get("tx.mode.events"), "applied to the kernel object: " + tx.counters());
        assertEquals(4L, tx.counters().get("tx.events.sample.every"), tx.counters().toString());
        assertEquals(4L, rx.counters().get("rx.events.sample.every"), rx.counters().toString());
        Transfer.Result e1 = Transfer.run(net, false, 21222, 4L << 20, 64 << 10, 64 << 10, 0, 0);
        Thread.sleep(600);
        assertEquals(before, series(tx, "TX-MAC", f1).count(), "no reload: the first flow's series is still there");
        Map<Long, Map<String, LayerLatencyEvent>> txSegs = LayerTestSupport.segments(publisher, "TX", e1.clientPort(), 21222);
        Map<Long, Map<String, LayerLatencyEvent>> rxSegs = LayerTestSupport.segments(publisher, "RX", e1.clientPort(), 21222);
        long txPackets = series(tx, "TX-MAC", LayerTestSupport.label(net.v4A, e1.clientPort(), net.v4B, 21222)).count();
        System.out.println("events 1-in-4: TX packets " + txPackets + ", TX sampled " + txSegs.size() + ", RX sampled " + rxSegs.size());
        assertFalse(txSegs.isEmpty());
        assertFalse(rxSegs.isEmpty());
        for (Map<String, LayerLatencyEvent> m : txSegs.values()) {
            m.values().forEach(e -> assertEquals(0, e.segmentHash() % 4, e.toString()));
        }
        assertTrue(txSegs.size() >= txPackets / 10 && txSegs.size() <= txPackets * 45 / 100,
                "about 1 in 4 sampled: " + txSegs.size() + " of " + txPackets);
        Set<Long> common = new HashSet<>(txSegs.keySet());
        common.retainAll(rxSegs.keySet());
        Set<Long> rxData = new HashSet<>();
        rxSegs.forEach((seq, m) -> {
            if (m.containsKey("RX-TCP")) {
                rxData.add(seq);
            }
        });
        assertTrue(common.size() >= rxData.size() * 9 / 10, "segments sampled by both ends: " + common.size()
                + " of " + rxData.size() + " sampled by the receiver");

        tx.applyConfig(Map.of("mode", "histogram"));
        rx.applyConfig(Map.of("mode", "histogram"));
        Thread.sleep(400);
        Transfer.Result h2 = Transfer.run(net, false, 21223, 1L << 20, 64 << 10, 64 << 10, 0, 0);
        Thread.sleep(600);
        long h2Records = publisher.events().stream().filter(e -> e instanceof LayerLatencyEvent l
                && l.srcPort() == h2.clientPort()).count();
        assertEquals(0, h2Records, "back in histogram mode: no records");
        assertTrue(series(tx, "TX-MAC", LayerTestSupport.label(net.v4A, h2.clientPort(), net.v4B, 21223)).count() > 0);
        for (Event e : publisher.events()) {
            assertTrue(e instanceof LayerLatencyEvent);
        }
    }
}
