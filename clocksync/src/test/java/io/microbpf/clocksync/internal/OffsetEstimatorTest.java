package io.microbpf.clocksync.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OffsetEstimatorTest {
    /** An exchange with true offset {@code offset}, one-way delays out/back and peer processing time. */
    static OffsetEstimator.Sample exchange(long t1, long offset, long out, long back, long proc) {
        long t2 = t1 + out + offset;
        long t3 = t2 + proc;
        long t4 = t3 - offset + back;
        return new OffsetEstimator.Sample(t1, t2, t3, t4);
    }

    @Test
    void symmetricPathsGiveTheExactOffsetAndTheBoundHalfTheRoundTrip() {
        OffsetEstimator e = new OffsetEstimator(8);
        e.add(exchange(1_000_000, 5_000_000_000L, 40_000, 40_000, 10_000));
        OffsetEstimator.Estimate est = e.estimate(1_200_000);
        assertEquals(5_000_000_000L, est.offsetNs());
        assertEquals(80_000, est.bestDelayNs());
        assertTrue(est.errorBoundNs() >= 40_000 && est.errorBoundNs() < 40_010, "δ/2 + 15 ppm of 0.1 ms: " + est);
    }

    @Test
    void samplesCloseToTheBestAreAveragedAndTheBoundCoversTheWorstOfThem() {
        OffsetEstimator e = new OffsetEstimator(16);
        e.add(exchange(0, 1000, 30_000, 10_000, 0));          // δ 40 µs, θ off by +10 µs
        e.add(exchange(1_000_000, 1000, 12_000, 32_000, 0));  // δ 44 µs, θ off by -10 µs
        e.add(exchange(2_000_000, 1000, 200_000, 10_000, 0)); // δ 210 µs: not close enough
        OffsetEstimator.Estimate est = e.estimate(3_000_000);
        assertEquals(1000, est.offsetNs(), "the two close samples' errors cancel");
        assertEquals(40_000, est.bestDelayNs());
        assertTrue(est.errorBoundNs() >= 22_000 && est.errorBoundNs() < 22_100, est.toString());
    }

    @Test
    void theTrueOffsetIsAlwaysWithinTheBoundWhateverTheAsymmetry() {
        Random r = new Random(7);
        long offset = -3_141_592_653L;
        OffsetEstimator e = new OffsetEstimator(16);
        long t = 10_000_000_000L;
        for (int i = 0; i < 200; i++) {
            long out = 5_000 + r.nextInt(500_000);
            long back = 5_000 + r.nextInt(500_000);
            e.add(exchange(t, offset, out, back, r.nextInt(50_000)));
            OffsetEstimator.Estimate est = e.estimate(t + out + back);
            assertTrue(Math.abs(est.offsetNs() - offset) <= est.errorBoundNs(), "exchange " + i + ": " + est);
            t += 100_000_000;
        }
    }

    @Test
    void theBestRoundTripOfTheWindowWins() {
        OffsetEstimator e = new OffsetEstimator(4);
        e.add(exchange(0, 1000, 900_000, 100_000, 0)); // asymmetric and slow: θ off by 400 µs
        e.add(exchange(1_000_000, 1000, 20_000, 20_000, 0)); // fast and symmetric
        e.add(exchange(2_000_000, 1000, 300_000, 10_000, 0));
        assertEquals(1000, e.estimate(3_000_000).offsetNs());
        assertEquals(40_000, e.estimate(3_000_000).bestDelayNs());
        // the window slides: after four more slow exchanges the fast one is gone
        for (int i = 0; i < 4; i++) {
            e.add(exchange(3_000_000 + i * 1_000_000L, 1000, 300_000, 100_000, 0));
        }
        assertEquals(400_000, e.estimate(8_000_000).bestDelayNs());
        assertEquals(4, e.size());
    }

    @Test
    void driftIsFittedAndTheBoundCoversADriftWithinTheAllowance() {
        OffsetEstimator e = new OffsetEstimator(32);
        double ppm = 12; // the peer's clock runs 12 µs/s fast (within the 15 ppm allowance)
        for (int i = 0; i < 20; i++) {
            long t = i * 500_000_000L;
            e.add(exchange(t, 1_000_000 + Math.round(ppm * 1e-6 * t), 30_000, 30_000, 5_000));
        }
        OffsetEstimator.Estimate est = e.estimate(19 * 500_000_000L + 1_000_000_000L);
        assertEquals(ppm, est.driftPpm(), 0.5);
        // equally good samples: the 8 most recent are averaged (samples 12..19)
        assertEquals(1_000_000 + Math.round(ppm * 1e-6 * 15.5 * 500_000_000L), est.offsetNs(), 2, "mean of the 8 latest");
        long truth = 1_000_000 + Math.round(ppm * 1e-6 * (19 * 500_000_000L + 1_000_000_000L));
        assertTrue(Math.abs(est.offsetNs() - truth) <= est.errorBoundNs(), est + " truth " + truth);
    }

    @Test
    void noSamplesNoEstimateAndBackwardsExchangesAreIgnored() {
        OffsetEstimator e = new OffsetEstimator(4);
        assertNull(e.estimate(0));
        e.add(new OffsetEstimator.Sample(100, 50, 40, 90)); // t3 < t2 and t4 < t1
        assertNull(e.estimate(0));
    }
}
