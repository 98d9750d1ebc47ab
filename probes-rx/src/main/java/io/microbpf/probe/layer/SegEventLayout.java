package io.microbpf.probe.layer;

import io.microbpf.api.Clocks;
import io.microbpf.api.Event;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * Java mirror of {@code struct seg_event} (bpf/include/microbpf_layer.h): one packet's boundary
 * instants, decoded into one {@link LayerLatencyEvent} per layer the packet was timed in.
 */
public final class SegEventLayout {
    public static final int SIZE = 96;
    public static final int TS = 0;
    public static final int FLOW = 40;
    public static final int SEQ = 80;
    public static final int LEN = 84;
    public static final int HASH = 88;
    public static final int DIR = 92;
    public static final int PAD = 93;

    private SegEventLayout() {}

    public static Map<String, Integer> layout() {
        return Map.of("ts", TS, "flow", FLOW, "seq", SEQ, "len", LEN, "hash", HASH, "dir", DIR, "pad", PAD);
    }

    /**
     * Which boundary instants delimit each layer: from {@code ts} (0 = not seen) fills, per layer i,
     * {@code startEnd[2i]} and {@code startEnd[2i + 1]}; a start of 0 means the layer was not timed
     * (see {@link #span}). Fills an array the caller keeps: no allocation per record.
     */
    @FunctionalInterface
    public interface Spans {
        void of(long[] ts, long[] startEnd);
    }

    /** Layer {@code i} spans {@code start .. end} if both were seen, else it was not timed. */
    public static void span(long[] startEnd, int i, long start, long end) {
        boolean timed = start != 0 && end != 0;
        startEnd[2 * i] = timed ? start : 0;
        startEnd[2 * i + 1] = timed ? end : 0;
    }

    /** Decodes a record into one event per layer the packet was timed in. */
    public static void decode(ByteBuffer b, int off, String direction, List<String> layers, Spans spans, List<Event> out) {
        decode(b, off, direction, layers, spans, new FlowKeyLayout.Cache(), Clocks.offsetNs(Clocks.monotonicNs()),
                new long[5], new long[2 * layers.size()], out);
    }

    /**
     * As above, with a flow cache and two scratch arrays kept by the (single) reading thread
     * ({@code ts}: 5 longs, {@code startEnd}: 2 per layer) and the wall-clock offset (realtime −
     * monotonic) measured once per batch: {@code Clocks.wallClockNs} re-measures the offset (15 clock
     * reads through JNA) whenever it is asked about an instant before its last measurement, which is
     * every packet record.
     */
    public static void decode(ByteBuffer b, int off, String direction, List<String> layers, Spans spans,
            FlowKeyLayout.Cache flows, long wallOffsetNs, long[] ts, long[] startEnd, List<Event> out) {
        for (int i = 0; i < 5; i++) {
            ts[i] = b.getLong(off + TS + 8 * i);
        }
        FlowKeyLayout.Flow flow = flows.decode(b, off + FLOW);
        long seq = b.getInt(off + SEQ) & 0xffffffffL;
        long len = b.getInt(off + LEN) & 0xffffffffL;
        long hash = b.getInt(off + HASH) & 0xffffffffL;
        spans.of(ts, startEnd);
        for (int i = 0; i < layers.size(); i++) {
            long start = startEnd[2 * i];
            if (start == 0) {
                continue;
            }
            long end = startEnd[2 * i + 1];
            out.add(new LayerLatencyEvent(direction, layers.get(i), flow.family(), flow.srcAddress(), flow.srcPort(),
                    flow.dstAddress(), flow.dstPort(), seq, len, hash, end - start, start, end, end + wallOffsetNs));
        }
    }
}
