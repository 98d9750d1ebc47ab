package io.microbpf.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        // JDK 17 reads CLOCK_MONOTONIC for System.nanoTime on Linux: ours must lie between two of its
        // readings taken around it (a bracket, so a preempted thread cannot fail it; a fixed
        // tolerance did on a loaded machine)
        long jvmBefore = System.nanoTime();
        long ours = Clocks.monotonicNs();
        long jvmAfter = System.nanoTime();
        assertTrue(jvmBefore <= ours && ours <= jvmAfter,
                "CLOCK_MONOTONIC agrees with System.nanoTime on Linux: " + jvmBefore + " <= " + ours + " <= " + jvmAfter);
    }

    @Test
    void pastInstantsReuseTheOffsetInsteadOfMeasuringAgain() {
        long now = Clocks.monotonicNs();
        Clocks.wallClockNs(now);
        long measured = Clocks.measurements();
        long offset = Clocks.offsetNs(now);
        for (int i = 1; i <= 10_000; i++) {
            assertEquals(now - i * 1_000L + offset, Clocks.wallClockNs(now - i * 1_000L));
        }
        assertEquals(measured, Clocks.measurements(), "a ring buffer's past events must not each trigger ~15 native calls");
        Clocks.wallClockNs(now + 6_000_000_000L); // more than the refresh interval later: measured again
        assertEquals(measured + 1, Clocks.measurements());
    }
}
