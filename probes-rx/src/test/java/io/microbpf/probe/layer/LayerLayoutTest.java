package io.microbpf.probe.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.test.KernelTestSupport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The Java mirrors of microbpf_layer.h against the compiled rx object, and the bucket scheme. */
public class LayerLayoutTest {
    @Test
    void javaMirrorsMatchTheCompiledStructs() {
        KernelTestSupport.requireKernel(); // libbpf parses the BTF
        byte[] elf = KernelTestSupport.resource("/bpf/rx.bpf.o");
        assertLayoutsOf(elf);
    }

    /** Also used by probes-tx for its own object. */
    public static void assertLayoutsOf(byte[] elf) {
        KernelTestSupport.assertLayout(elf, "flow_key", FlowKeyLayout.layout(), FlowKeyLayout.SIZE);
        KernelTestSupport.assertLayout(elf, "layer_hist", LayerHistLayout.layout(), LayerHistLayout.SIZE);
        KernelTestSupport.assertLayout(elf, "flow_hists", LayerHistLayout.flowHistsLayout(), LayerHistLayout.FLOW_HISTS_SIZE);
        KernelTestSupport.assertLayout(elf, "layer_knobs", KnobsLayout.layout(), KnobsLayout.SIZE);
        KernelTestSupport.assertLayout(elf, "seg_event", SegEventLayout.layout(), SegEventLayout.SIZE);
    }

    @Test
    void flowCacheDecodesAlternatingFlowsLikeTheDecoderAndReusesEachFlow() {
        // the two directions of one connection, as a probe that sees both ends alternates between them
        ByteBuffer b = ByteBuffer.allocate(2 * FlowKeyLayout.SIZE).order(ByteOrder.nativeOrder());
        int[][] flows = {{0x0a000001, 0x0a000002, 40000, 80}, {0x0a000002, 0x0a000001, 80, 40000}};
        for (int i = 0; i < flows.length; i++) {
            int off = i * FlowKeyLayout.SIZE;
            b.order(ByteOrder.BIG_ENDIAN).putInt(off + FlowKeyLayout.SADDR, flows[i][0]).putInt(off + FlowKeyLayout.DADDR, flows[i][1]);
            b.order(ByteOrder.nativeOrder()).putShort(off + FlowKeyLayout.SPORT, (short) flows[i][2])
                    .putShort(off + FlowKeyLayout.DPORT, (short) flows[i][3]).putShort(off + FlowKeyLayout.FAMILY, (short) 2);
        }
        assertTrue(FlowKeyLayout.Cache.slotOf(b, 0) != FlowKeyLayout.Cache.slotOf(b, FlowKeyLayout.SIZE),
                "the two directions use two slots");
        FlowKeyLayout.Cache cache = new FlowKeyLayout.Cache();
        FlowKeyLayout.Flow f0 = cache.decode(b, 0);
        FlowKeyLayout.Flow f1 = cache.decode(b, FlowKeyLayout.SIZE);
        assertEquals("10.0.0.1:40000->10.0.0.2:80", f0.label());
        assertEquals("10.0.0.2:80->10.0.0.1:40000", f1.label());
        for (int round = 0; round < 3; round++) {
            assertSame(f0, cache.decode(b, 0), "served from the cache, round " + round);
            assertSame(f1, cache.decode(b, FlowKeyLayout.SIZE), "served from the cache, round " + round);
        }
        b.putShort(FlowKeyLayout.SPORT, (short) 40001); // a new flow in place of the first: decoded afresh
        assertEquals("10.0.0.1:40001->10.0.0.2:80", cache.decode(b, 0).label());
    }

    @Test
    void everyValueFallsInsideItsBucketAndBucketsAreAtMostAQuarterOfTheirValueWide() {
        long[] probes = {0, 1, 7, 8, 9, 10, 11, 12, 15, 16, 100, 1000, 1023, 1024, 4095, 123_456, 1_000_000, 40_000_000,
            50_000_000, 999_999_999, 1L << 36, (1L << 40) - 1};
        int prev = -1;
        for (long v : probes) {
            int b = LayerHistLayout.bucketOf(v);
            assertTrue(b >= prev, "buckets grow with the value");
            prev = b;
            long lo = LayerHistLayout.bucketLowerNs(b);
            long w = LayerHistLayout.bucketWidthNs(b);
            assertTrue(lo <= v && v < lo + w, v + " in bucket " + b + " [" + lo + ", " + (lo + w) + ")");
            assertTrue(v < 8 || w * 4 <= lo, "bucket " + b + " width " + w + " vs lower bound " + lo);
        }
        for (int b = 0; b + 1 < LayerHistLayout.BUCKETS; b++) {
            assertEquals(LayerHistLayout.bucketLowerNs(b) + LayerHistLayout.bucketWidthNs(b), LayerHistLayout.bucketLowerNs(b + 1),
                    "buckets are contiguous at " + b);
        }
    }

    @Test
    void percentilesFromBucketsStayWithinHalfABucket() {
        long[] raw = new long[LayerHistLayout.RAW_LONGS];
        raw[2 + LayerHistLayout.bucketOf(50_000_000)] = 99;
        raw[2 + LayerHistLayout.bucketOf(1_000)] = 1;
        var h = LayerHistLayout.toHistogram(raw);
        long p50 = h.getValueAtPercentile(50);
        assertTrue(Math.abs(p50 - 50_000_000) <= 50_000_000 / 8 + 50_000_000 / 100, "p50 " + p50);
        assertEquals(100, h.getTotalCount());
    }

    @Test
    void segEventDecodesIntoOneEventPerTimedLayer() {
        ByteBuffer b = ByteBuffer.allocate(SegEventLayout.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(0, 1000).putLong(8, 1500).putLong(16, 0).putLong(24, 4000);
        b.put(SegEventLayout.FLOW + FlowKeyLayout.SADDR, new byte[] {10, (byte) 210, 1, 1});
        b.put(SegEventLayout.FLOW + FlowKeyLayout.DADDR, new byte[] {10, (byte) 210, 1, 2});
        b.putShort(SegEventLayout.FLOW + FlowKeyLayout.SPORT, (short) 40000);
        b.putShort(SegEventLayout.FLOW + FlowKeyLayout.DPORT, (short) 21000);
        b.putShort(SegEventLayout.FLOW + FlowKeyLayout.FAMILY, (short) 2);
        b.putInt(SegEventLayout.SEQ, 0xfffffff0);
        b.putInt(SegEventLayout.LEN, 1448);
        var out = new java.util.ArrayList<io.microbpf.api.Event>();
        SegEventLayout.decode(b, 0, "RX", java.util.List.of("A", "B", "C"), (ts, se) -> {
            SegEventLayout.span(se, 0, ts[0], ts[1]);
            SegEventLayout.span(se, 1, ts[1], ts[2]); // ts[2] was not seen: B not timed
            SegEventLayout.span(se, 2, ts[1], ts[3]);
        }, out);
        assertEquals(2, out.size(), out.toString());
        LayerLatencyEvent a = (LayerLatencyEvent) out.get(0);
        assertEquals(500, a.durationNs());
        assertEquals("10.210.1.1", a.srcAddress());
        assertEquals(40000, a.srcPort());
        assertEquals(0xfffffff0L, a.seq());
        assertEquals(1448, a.payloadBytes());
        assertEquals(2500, ((LayerLatencyEvent) out.get(1)).durationNs());
    }
}
