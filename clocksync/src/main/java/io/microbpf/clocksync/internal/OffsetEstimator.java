package io.microbpf.clocksync.internal;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The NTP arithmetic for one peer over a sliding window of exchanges. For an exchange with t1 (we
 * send), t2 (peer receives), t3 (peer replies), t4 (we receive), each in its own side's clock:
 * offset θ = ((t2 − t1) + (t3 − t4)) / 2 and delay δ = (t4 − t1) − (t3 − t2). Whatever the path
 * asymmetry, the true offset lies within θ ± δ/2. The estimate combines the exchanges whose δ is
 * close to the smallest of the window (see {@link #estimate}); its bound is their largest δ/2 plus
 * the maximum drift allowance ({@link #MAX_DRIFT_PPM}) over their age. The drift fitted over the
 * window is reported but not used to extrapolate: a fit through noisy offsets can be far off, and
 * an extrapolation error would not be covered by the bound. Not thread-safe.
 */
final class OffsetEstimator {
    /** Frequency error assumed for the bound's growth (NTP's PHI: 15 µs per second). */
    static final double MAX_DRIFT_PPM = 15.0;

    /** One completed exchange. t4 is also "when", in our clock. */
    record Sample(long t1, long t2, long t3, long t4) {
        long offsetNs() {
            return Math.floorDiv((t2 - t1) + (t3 - t4), 2);
        }

        long delayNs() {
            return Math.max(0, (t4 - t1) - (t3 - t2));
        }
    }

    /** The estimate at one instant. */
    record Estimate(long offsetNs, long errorBoundNs, double driftPpm, long bestDelayNs, int samples) {}

    private final int window;
    private final Deque<Sample> samples = new ArrayDeque<>();

    OffsetEstimator(int window) {
        this.window = window;
    }

    void add(Sample s) {
        if (s.t4() < s.t1() || s.t3() < s.t2()) {
            return; // a clock went backwards or a corrupt reply: not a measurement
        }
        samples.addLast(s);
        while (samples.size() > window) {
            samples.removeFirst();
        }
    }

    int size() {
        return samples.size();
    }

    /** Samples whose round trip is at most this much worse than the best one are averaged with it. */
    static long closeEnough(long bestDelayNs) {
        return bestDelayNs + bestDelayNs / 4 + 5_000;
    }

    /** At most this many of the closest samples (the most recent ones) are averaged. */
    static final int COMBINED = 8;

    /**
     * The estimate at local instant {@code nowNs}; null without samples. The offset is the mean θ of
     * the most recent (up to {@link #COMBINED}) samples whose δ is within {@link #closeEnough} of the
     * window's best: one lucky exchange then moves the estimate less. Each of those θ lies within
     * δ/2 of the truth (plus drift since it was taken), so their mean lies within the largest such
     * bound: that is the error bound.
     */
    Estimate estimate(long nowNs) {
        Sample best = null;
        for (Sample s : samples) {
            if (best == null || s.delayNs() <= best.delayNs()) {
                best = s;
            }
        }
        if (best == null) {
            return null;
        }
        long limit = closeEnough(best.delayNs());
        int n = 0;
        double sum = 0;
        long bound = 0;
        java.util.Iterator<Sample> newestFirst = samples.descendingIterator();
        while (newestFirst.hasNext() && n < COMBINED) {
            Sample s = newestFirst.next();
            if (s.delayNs() > limit) {
                continue;
            }
            n++;
            sum += s.offsetNs();
            long age = Math.max(0, nowNs - s.t4());
            bound = Math.max(bound, (s.delayNs() + 1) / 2 + (long) Math.ceil(MAX_DRIFT_PPM * 1e-6 * age));
        }
        double drift = drift(best.delayNs());
        return new Estimate(Math.round(sum / n), bound, drift, best.delayNs(), samples.size());
    }

    /**
     * Least-squares slope of offset over time (ppm) through the good samples (delay at most twice
     * the best plus 20 µs); 0 with fewer than 4 of them or less than one second between them.
     */
    private double drift(long bestDelay) {
        long limit = 2 * bestDelay + 20_000;
        int n = 0;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        long x0 = samples.peekFirst().t4();
        long y0 = samples.peekFirst().offsetNs();
        long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
        for (Sample s : samples) {
            if (s.delayNs() > limit) {
                continue;
            }
            double x = s.t4() - x0;
            double y = s.offsetNs() - y0;
            n++;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
            first = Math.min(first, s.t4());
            last = Math.max(last, s.t4());
        }
        if (n < 4 || last - first < 1_000_000_000L) {
            return 0;
        }
        double den = n * sxx - sx * sx;
        return den == 0 ? 0 : (n * sxy - sx * sy) / den * 1e6;
    }
}
