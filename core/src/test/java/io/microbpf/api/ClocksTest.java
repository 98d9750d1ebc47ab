package io.microbpf.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClocksTest {
    @Test
    void monotonicInstantsConvertToTheWallClockOfThatInstant() {
        long before = System.currentTimeMillis();
        long wallNs = Clocks.wallClockNs(Clocks.monotonicNs());
        long after = System.currentTimeMillis();
        assertTrue(wallNs >= before * 1_000_000L - 1_000_000 && wallNs <= after * 1_000_000L + 1_000_000,
                before + " <= " + wallNs / 1_000_000 + " <= " + after);
        long jvmMono = System.nanoTime();
        long ours = Clocks.monotonicNs();
        assertTrue(Math.abs(ours - jvmMono) < 50_000_000L, "CLOCK_MONOTONIC agrees with System.nanoTime on Linux");
    }
}
