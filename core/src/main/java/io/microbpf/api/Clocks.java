package io.microbpf.api;

import io.microbpf.core.internal.jna.LibC;

/**
 * Converts CLOCK_MONOTONIC nanoseconds (what {@code bpf_ktime_get_ns()} returns) to wall-clock
 * nanoseconds since the epoch. The offset is measured by bracketing one CLOCK_REALTIME read between
 * two CLOCK_MONOTONIC reads (tightest of several tries) and re-measured every few seconds so NTP
 * adjustments are followed.
 */
public final class Clocks {
    private static final long REFRESH_NS = 5_000_000_000L;
    private static volatile long offsetNs;
    private static volatile long measuredAtMonoNs = Long.MIN_VALUE;
    private static volatile long measurements;

    private Clocks() {}

    /** CLOCK_MONOTONIC now, in ns (the BPF clock). */
    public static long monotonicNs() {
        LibC.Timespec ts = new LibC.Timespec();
        LibC.INSTANCE.clock_gettime(LibC.CLOCK_MONOTONIC, ts);
        return ts.toNanos();
    }

    /** Wall-clock ns since the epoch for a CLOCK_MONOTONIC instant. */
    public static long wallClockNs(long monotonicNs) {
        return monotonicNs + offsetNs(monotonicNs);
    }

    /**
     * realtime - monotonic, in ns, re-measured when the instant asked about is more than a few
     * seconds after the last measurement. Instants before it (every event read from a ring buffer is
     * in the past) use the current offset: measuring again for each of them would cost ~15 native
     * calls per event and gain nothing, since NTP slews the offset by microseconds per second at most.
     */
    public static long offsetNs(long nowMonoHintNs) {
        long measured = measuredAtMonoNs;
        if (measured == Long.MIN_VALUE || nowMonoHintNs - measured > REFRESH_NS) {
            measure(measured);
        }
        return offsetNs;
    }

    private static synchronized void measure(long staleMeasurementNs) {
        if (measuredAtMonoNs != staleMeasurementNs) {
            return; // another thread measured meanwhile
        }
        LibC c = LibC.INSTANCE;
        LibC.Timespec a = new LibC.Timespec();
        LibC.Timespec r = new LibC.Timespec();
        LibC.Timespec b = new LibC.Timespec();
        long bestGap = Long.MAX_VALUE;
        long best = 0;
        long mono = 0;
        for (int i = 0; i < 5; i++) {
            c.clock_gettime(LibC.CLOCK_MONOTONIC, a);
            c.clock_gettime(LibC.CLOCK_REALTIME, r);
            c.clock_gettime(LibC.CLOCK_MONOTONIC, b);
            long gap = b.toNanos() - a.toNanos();
            if (gap < bestGap) {
                bestGap = gap;
                mono = a.toNanos() + gap / 2;
                best = r.toNanos() - mono;
            }
        }
        offsetNs = best;
        measuredAtMonoNs = mono;
        measurements++;
    }

    /** How many times the offset has been measured (for tests). */
    static long measurements() {
        return measurements;
    }
}
