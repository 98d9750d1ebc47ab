package io.microbpf.collector.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.collector.CollectorStats;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SegmentMatcherTest {
    static final long MS = 1_000_000;

    static NicSegmentEvent seg(String dir, String src, int sport, String dst, int dport, long seq, long ack, int len, int ipId) {
        return new NicSegmentEvent(dir, 4, src, sport, dst, dport, seq, ack, len, ipId, 0x10, 2, "eth0", 1, 1, 0, "test", 0, 0);
    }

    static NicSegmentEvent tx(String src, int sport, String dst, int dport, long seq, long ack) {
        return seg("TX", src, sport, dst, dport, seq, ack, 1448, 7);
    }

    static NicSegmentEvent rx(String src, int sport, String dst, int dport, long seq, long ack) {
        return seg("RX", src, sport, dst, dport, seq, ack, 1448, 7);
    }

    @Test
    void aTxAndItsRxOnAnotherHostGiveTheOneWayLatencyInEitherArrivalOrder() {
        SegmentMatcher m = new SegmentMatcher(10_000 * MS, 1000, 100);
        m.offer("client", tx("10.0.0.1", 5000, "10.0.1.1", 80, 1000, 2000), 1_000_000, 0);
        m.offer("server", rx("10.0.0.1", 5000, "10.0.1.1", 80, 1000, 2000), 1_250_000, 0);
        m.offer("client", rx("10.0.1.1", 80, "10.0.0.1", 5000, 2000, 2448), 2_080_000, 0); // RX first
        m.offer("server", tx("10.0.1.1", 80, "10.0.0.1", 5000, 2000, 2448), 2_000_000, 0);
        List<LatencySummary> s = m.summaries("netlat", true);
        assertEquals(4, s.size(), s.toString());
        LatencySummary cs = s.stream().filter(x -> x.labels().equals(Map.of("from", "client", "to", "server"))).findFirst().orElseThrow();
        LatencySummary sc = s.stream().filter(x -> x.labels().equals(Map.of("from", "server", "to", "client"))).findFirst().orElseThrow();
        assertEquals(1, cs.count());
        assertEquals(250_000, cs.maxNs(), 250);
        assertEquals(80_000, sc.maxNs(), 80);
        assertEquals("10.0.0.1:5000>10.0.1.1:80", s.stream().filter(x -> x.labels().containsKey("flow")
                && x.labels().get("from").equals("client")).findFirst().orElseThrow().labels().get("flow"));
        CollectorStats st = m.stats();
        assertEquals(2, st.matched());
        assertEquals(0, st.pendingTx() + st.pendingRx());
    }

    @Test
    void twoFlowsWithCollidingSeqAndAckAreNeverMatchedWithEachOther() {
        SegmentMatcher m = new SegmentMatcher(10_000 * MS, 1000, 100);
        // flow A (client 5000 -> server 80) and flow B (client 5001 -> server 80), and flow C between
        // other hosts, all with the same seq, ack, length and IP id: text "seq ack" matching would pair them
        m.offer("client", tx("10.0.0.1", 5000, "10.0.1.1", 80, 777, 999), 0, 0);
        m.offer("server", rx("10.0.0.1", 5001, "10.0.1.1", 80, 777, 999), 5 * MS, 0); // B's RX: must not take A's TX
        m.offer("server", rx("10.0.0.2", 5000, "10.0.1.1", 80, 777, 999), 6 * MS, 0); // C's RX (other source)
        assertEquals(0, m.stats().matched(), "no pair across flows");
        assertEquals(1, m.stats().pendingTx());
        assertEquals(2, m.stats().pendingRx());
        m.offer("server", rx("10.0.0.1", 5000, "10.0.1.1", 80, 777, 999), 100_000, 0); // A's RX
        m.offer("client", tx("10.0.0.1", 5001, "10.0.1.1", 80, 777, 999), 5 * MS - 30_000, 0); // B's TX
        m.offer("other", tx("10.0.0.2", 5000, "10.0.1.1", 80, 777, 999), 6 * MS - 70_000, 0); // C's TX
        CollectorStats st = m.stats();
        assertEquals(3, st.matched());
        assertEquals(0, st.pendingTx() + st.pendingRx());
        Map<String, Long> maxByFlow = new java.util.HashMap<>();
        m.summaries("netlat", true).stream().filter(x -> x.labels().containsKey("flow"))
                .forEach(x -> maxByFlow.put(x.labels().get("flow"), x.maxNs()));
        // per-flow series keep 2 significant digits (1 %)
        assertEquals(100_000, maxByFlow.get("10.0.0.1:5000>10.0.1.1:80"), 1000);
        assertEquals(30_000, maxByFlow.get("10.0.0.1:5001>10.0.1.1:80"), 300);
        assertEquals(70_000, maxByFlow.get("10.0.0.2:5000>10.0.1.1:80"), 700);
    }

    @Test
    void ipIdAndLengthArePartOfTheIdentity() {
        SegmentMatcher m = new SegmentMatcher(10_000 * MS, 1000, 100);
        m.offer("a", seg("TX", "10.0.0.1", 1, "10.0.0.2", 2, 5, 6, 100, 1), 0, 0);
        m.offer("b", seg("RX", "10.0.0.1", 1, "10.0.0.2", 2, 5, 6, 100, 2), 10, 0); // a retransmission: other IP id
        m.offer("b", seg("RX", "10.0.0.1", 1, "10.0.0.2", 2, 5, 6, 99, 1), 10, 0);
        assertEquals(0, m.stats().matched());
    }

    @Test
    void unmatchedRecordsAgeOutAfterTheWindowAndAreCounted() {
        SegmentMatcher m = new SegmentMatcher(100 * MS, 1000, 100);
        m.offer("a", tx("10.0.0.1", 1, "10.0.0.2", 2, 1, 1), 0, 0);
        m.offer("b", rx("10.0.0.1", 1, "10.0.0.2", 2, 2, 1), 0, 50 * MS);
        m.age(120 * MS);
        assertEquals(1, m.stats().txAgedOut());
        assertEquals(0, m.stats().rxAgedOut());
        m.age(151 * MS);
        assertEquals(1, m.stats().rxAgedOut());
        m.offer("b", rx("10.0.0.1", 1, "10.0.0.2", 2, 1, 1), 1000, 160 * MS); // its TX is gone
        assertEquals(0, m.stats().matched());
        assertEquals(1, m.stats().pendingRx());
    }

    @Test
    void boundedPendingDuplicatesSameAgentOutOfWindowAndNegative() {
        SegmentMatcher m = new SegmentMatcher(100 * MS, 1000, 1);
        for (int i = 0; i < 1001; i++) {
            m.offer("a", tx("10.0.0.1", 1, "10.0.0.2", 2, i, 0), 0, 0);
        }
        assertEquals(1000, m.stats().pendingTx());
        assertEquals(1, m.stats().txAgedOut(), "the oldest makes room");
        m.offer("a", tx("10.0.0.1", 1, "10.0.0.2", 2, 500, 0), 0, 0);
        assertEquals(2, m.stats().duplicates());
        m.offer("a", rx("10.0.0.1", 1, "10.0.0.2", 2, 501, 0), 0, 0);
        assertEquals(1, m.stats().sameAgent());
        m.offer("b", rx("10.0.0.1", 1, "10.0.0.2", 2, 502, 0), 200 * MS, 0);
        assertEquals(1, m.stats().outOfWindow());
        m.offer("b", rx("10.0.0.1", 1, "10.0.0.2", 2, 503, 0), -5_000, 0);
        assertEquals(1, m.stats().negativeClamped());
        m.offer("b", rx("10.0.0.1", 2, "10.0.0.2", 2, 7, 7), 0, 0);
        m.offer("a", tx("10.0.0.1", 2, "10.0.0.2", 2, 7, 7), 0, 0);
        assertEquals(1, m.stats().flowsNotTracked(), "max.flows = 1");
        assertEquals(2, m.stats().matched());
    }
}
