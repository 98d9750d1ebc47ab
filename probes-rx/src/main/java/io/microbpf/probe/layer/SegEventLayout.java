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

    /** Which boundary instants delimit each layer: for {@code ts} (0 = not seen), per layer {start, end} or null. */
    @FunctionalInterface
    public interface Spans {
        long[][] of(long[] ts);
    }

    /** Decodes a record into one event per layer the packet was timed in. */
    public static void decode(ByteBuffer b, int off, String direction, List<String> layers, Spans spans, List<Event> out) {
        decode(b, off, direction, layers, spans, new FlowKeyLayout.Cache(), Clocks.offsetNs(Clocks.monotonicNs()), out);
    }

    /**
     * As above, with a flow cache kept by the (single) reading thread and the wall-clock offset
     * (realtime − monotonic) measured once per batch: {@code Clocks.wallClockNs} re-measures the offset
     * (15 clock reads through JNA) whenever it is asked about an instant before its last measurement,
     * which is every packet record.
     */
    public static void decode(ByteBuffer b, int off, String direction, List<String> layers, Spans spans,
            FlowKeyLayout.Cache flows, long wallOffsetNs, List<Event> out) {
        long[] ts = new long[5];
        for (int i = 0; i < 5; i++) {
            ts[i] = b.getLong(off + TS + 8 * i);
        }
        FlowKeyLayout.Flow flow = flows.decode(b, off + FLOW);
        long seq = b.getInt(off + SEQ) & 0xffffffffL;
        long len = b.getInt(off + LEN) & 0xffffffffL;
        long hash = b.getInt(off + HASH) & 0xffffffffL;
        long[][] s = spans.of(ts);
        for (int i = 0; i < layers.size(); i++) {
            if (s[i] == null) {
                continue;
            }
            long start = s[i][0];
            long end = s[i][1];
            out.add(new LayerLatencyEvent(direction, layers.get(i), flow.family(), flow.srcAddress(), flow.srcPort(),
                    flow.dstAddress(), flow.dstPort(), seq, len, hash, end - start, start, end, end + wallOffsetNs));
        }
    }
}
