package io.microbpf.api.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencySummaryTest {

    @Test
    void percentilesAndCumulativeBucketsFollowTheSamples() {
        Histogram h = new Histogram(3);
        for (int i = 1; i <= 1000; i++) {
            h.recordValue(i * 1_000L); // 1 µs .. 1 ms
        }
        LatencySummary s = LatencySummary.of("layer", Map.of("layer", "RX-IP"), h);
        assertEquals(1000, s.count());
        assertEquals(500_000, s.p50Ns(), 500_000 * 0.001);
        assertEquals(990_000, s.p99Ns(), 990_000 * 0.001);
        assertEquals(1_000_000, s.maxNs(), 1_000_000 * 0.001);
        assertEquals(500_500_000L, s.sumNs(), 500_500_000L * 0.001);
        // 2^10 ns = 1.024 µs holds the 1 µs sample only; 2^20 ns = 1.048576 ms holds all of them
        assertEquals(1, s.buckets().get(0).cumulativeCount());
        assertEquals(1000, s.buckets().get(10).cumulativeCount());
        for (int i = 1; i < s.buckets().size(); i++) {
            assertTrue(s.buckets().get(i).cumulativeCount() >= s.buckets().get(i - 1).cumulativeCount());
        }
    }

    @Test
    void anEmptyHistogramGivesZeros() {
        LatencySummary s = LatencySummary.of("app", Map.of("port", "80"), new Histogram(3));
        assertEquals(0, s.count());
        assertEquals(0, s.maxNs());
        assertEquals(0, s.buckets().get(23).cumulativeCount());
    }
}
