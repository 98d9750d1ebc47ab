package io.microbpf.probe.layer;

import java.nio.ByteBuffer;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Java mirror of {@code struct layer_hist} (bpf/include/microbpf_layer.h): count, sum and
 * {@value #BUCKETS} buckets (values 0..7 ns exact, then four equal sub-buckets per power of two),
 * and the bucket bounds of {@code layer_bucket()}.
 */
public final class LayerHistLayout {
    public static final int BUCKETS = 160;
    public static final int COUNT = 0;
    public static final int SUM_NS = 8;
    public static final int BUCKETS_OFF = 16;
    public static final int SIZE = 16 + 8 * BUCKETS;
    /** Raw form: [count, sum, bucket 0 .. bucket 159]. */
    public static final int RAW_LONGS = 2 + BUCKETS;
    /** {@code LAYER_MAX}: layers in a {@code struct flow_hists} (a flow's histograms, one per layer). */
    public static final int FLOW_LAYERS = 4;
    /** Size of {@code struct flow_hists}: {@value #FLOW_LAYERS} histograms back to back. */
    public static final int FLOW_HISTS_SIZE = FLOW_LAYERS * SIZE;

    private LayerHistLayout() {}

    public static Map<String, Integer> layout() {
        return Map.of("count", COUNT, "sum_ns", SUM_NS, "buckets", BUCKETS_OFF);
    }

    /** Smallest value (ns) that falls into bucket {@code idx}. */
    public static long bucketLowerNs(int idx) {
        if (idx < 8) {
            return idx;
        }
        int o = idx / 4 + 1;
        return (4L + idx % 4) << (o - 2);
    }

    /** Width of bucket {@code idx} in ns. */
    public static long bucketWidthNs(int idx) {
        return idx < 8 ? 1 : 1L << (idx / 4 - 1);
    }

    /** The bucket of a value, as the kernel computes it (for tests). */
    public static int bucketOf(long ns) {
        if (ns < 8) {
            return (int) ns;
        }
        int o = 63 - Long.numberOfLeadingZeros(ns);
        int idx = 4 * (o - 1) + (int) ((ns >> (o - 2)) & 3);
        return Math.min(idx, BUCKETS - 1);
    }

    public static Map<String, Integer> flowHistsLayout() {
        return Map.of("layer", 0);
    }

    /** Sums the per-CPU copies of a {@code struct layer_hist} read from a per-CPU map into raw form. */
    public static long[] sumPerCpu(byte[] value) {
        return sumPerCpu(value, SIZE, 0);
    }

    /** Sums the per-CPU copies of layer {@code layer} of a {@code struct flow_hists} into raw form. */
    public static long[] sumFlowLayerPerCpu(byte[] value, int layer) {
        if (layer < 0 || layer >= FLOW_LAYERS) {
            throw new IllegalArgumentException("layer " + layer + " outside 0.." + (FLOW_LAYERS - 1));
        }
        return sumPerCpu(value, FLOW_HISTS_SIZE, layer * SIZE);
    }

    /** Per-CPU values of {@code valueSize} bytes (each CPU's copy 8-byte aligned); the histogram at {@code offset} in each. */
    private static long[] sumPerCpu(byte[] value, int valueSize, int offset) {
        long[] raw = new long[RAW_LONGS];
        int slot = (valueSize + 7) & ~7;
        ByteBuffer b = ByteBuffer.wrap(value).order(java.nio.ByteOrder.nativeOrder());
        for (int cpu = 0; cpu + slot <= value.length; cpu += slot) {
            for (int i = 0; i < RAW_LONGS; i++) {
                raw[i] += b.getLong(cpu + offset + 8 * i);
            }
        }
        return raw;
    }

    /** raw - baseline (element-wise; baseline may be null). */
    public static long[] minus(long[] raw, long[] baseline) {
        if (baseline == null) {
            return raw;
        }
        long[] d = new long[RAW_LONGS];
        for (int i = 0; i < RAW_LONGS; i++) {
            d[i] = Math.max(0, raw[i] - baseline[i]);
        }
        return d;
    }

    /**
     * An HdrHistogram (ns) holding each bucket's count at the bucket's midpoint: percentiles are
     * exact to within half a bucket (≤ 12.5 % of the value above 8 ns).
     */
    public static Histogram toHistogram(long[] raw) {
        Histogram h = new Histogram(2);
        h.setAutoResize(true);
        for (int i = 0; i < BUCKETS; i++) {
            long n = raw[2 + i];
            if (n > 0) {
                h.recordValueWithCount(bucketLowerNs(i) + bucketWidthNs(i) / 2, n);
            }
        }
        return h;
    }
}
