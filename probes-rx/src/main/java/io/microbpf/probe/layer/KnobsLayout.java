package io.microbpf.probe.layer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/** Java mirror of {@code struct layer_knobs} (bpf/include/microbpf_layer.h): the live settings. */
public final class KnobsLayout {
    public static final int SIZE = 16;
    public static final int EVENTS = 0;
    public static final int SAMPLE_EVERY = 4;
    public static final int FLOWS_OFF = 8;
    public static final int PAD = 12;

    private KnobsLayout() {}

    public static Map<String, Integer> layout() {
        return Map.of("events", EVENTS, "sample_every", SAMPLE_EVERY, "flows_off", FLOWS_OFF, "pad", PAD);
    }

    public static byte[] encode(boolean events, int sampleEvery, boolean perFlow) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.nativeOrder());
        b.putInt(EVENTS, events ? 1 : 0);
        b.putInt(SAMPLE_EVERY, sampleEvery);
        b.putInt(FLOWS_OFF, perFlow ? 0 : 1);
        return b.array();
    }
}
