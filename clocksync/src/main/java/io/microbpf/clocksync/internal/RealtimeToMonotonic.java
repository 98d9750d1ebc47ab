package io.microbpf.clocksync.internal;

import com.sun.jna.Native;

/**
 * Converts a CLOCK_REALTIME instant (what SO_TIMESTAMPNS gives) to CLOCK_MONOTONIC (the BPF clock),
 * measured afresh for every conversion: five brackets (monotonic, realtime, monotonic), the
 * tightest one wins, so a thread preempted between two reads cannot skew a clock-sync sample (a
 * skew here would not be covered by the exchange's error bound). Direct-mapped clock_gettime; the
 * constructor warms the path up so the first conversions are as tight as the later ones.
 */
final class RealtimeToMonotonic {
    private static final int CLOCK_REALTIME = 0;
    private static final int CLOCK_MONOTONIC = 1;

    static {
        Native.register(RealtimeToMonotonic.class, "c");
    }

    /** struct timespec as two longs (x86_64), copied in and out by JNA's direct mapping. */
    private static native int clock_gettime(int clock, long[] ts);

    private final long[] a = new long[2];
    private final long[] r = new long[2];
    private final long[] b = new long[2];
    private long lastGapNs;

    RealtimeToMonotonic() {
        for (int i = 0; i < 2_000; i++) {
            toMonotonic(0);
        }
    }

    private static long read(int clock, long[] ts) {
        clock_gettime(clock, ts);
        return ts[0] * 1_000_000_000L + ts[1];
    }

    /** The monotonic instant of {@code realtimeNs}; not thread-safe (one receiving thread). */
    long toMonotonic(long realtimeNs) {
        long bestGap = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 5; i++) {
            long ma = read(CLOCK_MONOTONIC, a);
            long rt = read(CLOCK_REALTIME, r);
            long mb = read(CLOCK_MONOTONIC, b);
            long gap = mb - ma;
            if (gap < bestGap) {
                bestGap = gap;
                offset = rt - (ma + gap / 2);
            }
        }
        lastGapNs = bestGap;
        return realtimeNs - offset;
    }

    /** Width of the bracket of the last conversion (its uncertainty is half of it). */
    long lastGapNs() {
        return lastGapNs;
    }
}
