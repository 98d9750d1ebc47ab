package io.microbpf.collector.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PushIngestTest {
    private final ObjectMapper mapper = new ObjectMapper();

    /** A push exactly as the HTTP push sink sends it: Jackson's serialisation of the Event records. */
    byte[] push(String agent, Object... events) throws Exception {
        return mapper.writeValueAsBytes(Map.of("agent", agent, "sentWallNs", 1L, "events", List.of(events)));
    }

    static NicSegmentEvent seg(String dir, long ts) {
        return new NicSegmentEvent(dir, 4, "10.240.1.1", 40000, "10.240.2.1", 24001, 4_000_000_000L, 17, 1448, 99, 0x18, 3,
                "nlc0", 4026532000L, 3, 1, "tp_btf/net_dev_start_xmit", ts, ts + 1);
    }

    /** Some other probe's event in the same push. */
    record OtherEvent(String type, long monotonicNs) {}

    @Test
    void theSinkWireFormatIsDecodedAndTimestampsAreCorrectedByTheClockOffset() throws Exception {
        SegmentMatcher m = new SegmentMatcher(10_000_000_000L, 1000, 10);
        long offset = 5_000_000_000L; // server clock = ours + 5 s
        PushIngest in = new PushIngest(m, new FakeClockSync("client").offset("server", offset), () -> 0);
        String json = new String(push("client", seg("TX", 1_000_000), new OtherEvent("tcp.connection", 5)), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"type\":\"nic.segment\""), json);
        PushIngest.Result r = in.ingest(json.getBytes(StandardCharsets.UTF_8));
        assertTrue(r.accepted(), r.toString());
        assertEquals(1, r.nicRecords());
        assertTrue(in.ingest(push("server", seg("RX", 1_000_000 + offset + 42_000))).accepted());
        List<LatencySummary> s = m.summaries("netlat", false);
        assertEquals(1, s.size());
        assertEquals(Map.of("from", "client", "to", "server"), s.get(0).labels());
        assertEquals(42_000, s.get(0).p50Ns(), 42);
    }

    @Test
    void recordsOfAnAgentWithoutAClockOffsetAreCountedNotMatched() throws Exception {
        SegmentMatcher m = new SegmentMatcher(10_000_000_000L, 1000, 10);
        PushIngest in = new PushIngest(m, new FakeClockSync("client"), () -> 0);
        assertTrue(in.ingest(push("stranger", seg("RX", 5))).accepted());
        assertEquals(1, m.stats().noClock());
        assertEquals(0, m.stats().pendingRx());
    }

    @Test
    void malformedPushesAreRefusedWholeWithOneReason() throws Exception {
        SegmentMatcher m = new SegmentMatcher(10_000_000_000L, 1000, 10);
        PushIngest in = new PushIngest(m, new FakeClockSync("client"), () -> 0);
        for (String bad : new String[] {"[]", "{\"agent\": 3, \"events\": []}", "{\"agent\": \"a\"}",
            "{\"agent\": \"a\", \"events\": {}}", "{\"agent\": \"a\", \"events\": [1]}", "{\"agent\": \"a\", \"events\": [",
            "{\"agent\": \"client\", \"events\": [{\"type\": \"nic.segment\", \"seq\": \"x\"}]}",
            "{\"agent\": \"client\", \"events\": [{\"type\": \"nic.segment\", \"direction\": \"UP\", \"srcAddress\": \"1.2.3.4\", \"dstAddress\": \"1.2.3.5\"}]}"}) {
            PushIngest.Result r = in.ingest(bad.getBytes(StandardCharsets.UTF_8));
            assertFalse(r.accepted(), bad);
            assertTrue(r.error() != null && !r.error().isBlank() && !r.error().contains("\n"), r.error());
        }
        assertEquals(8, m.stats().rejectedBatches());
        assertEquals(0, m.stats().records());
    }
}
