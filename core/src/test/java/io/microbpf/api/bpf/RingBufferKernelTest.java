package io.microbpf.api.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.test.KernelTestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ring buffer reader against the real kernel: XDP runs driven by BPF_PROG_TEST_RUN. */
class RingBufferKernelTest {
    private static final byte[] FRAME = new byte[64];
    private byte[] elf;

    @BeforeEach
    void setUp() {
        KernelTestSupport.requireKernel();
        elf = KernelTestSupport.resource("/bpf/selftest.bpf.o");
    }

    @Test
    void selftestEventMirrorMatchesTheCompiledStruct() {
        KernelTestSupport.assertLayout(elf, "selftest_event", SelftestEvent.layout(), SelftestEvent.SIZE);
    }

    @Test
    void everyEventProducedIsReadOnceInOrderWithTheKnobSetBeforeLoad() {
        int n = 20_000;
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("xdp_emit"));
            obj.setConstantInt("knob_tag", 0xC0FFEE);
            obj.map("events").setMaxEntries(1 << 22);
            obj.load();
            try (RingBufferReader reader = RingBufferReader.open(obj.map("events"), () -> obj.map("events_lost").sumPerCpuU64(0))) {
                assertEquals(2, obj.testRun("xdp_emit", FRAME, n)); // XDP_PASS
                List<SelftestEvent> seen = new ArrayList<>();
                while (seen.size() < n) {
                    int got = reader.poll((b, off, len) -> {
                        assertEquals(SelftestEvent.SIZE, len);
                        seen.add(SelftestEvent.decode(b, off));
                    }, 1000, 1000);
                    assertTrue(got > 0, "ring ran dry after " + seen.size() + " of " + n);
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(i, seen.get(i).seq(), "sequence at " + i);
                    assertEquals(0xC0FFEE, seen.get(i).tag());
                    assertEquals(FRAME.length, seen.get(i).len());
                }
                assertEquals(n, reader.events());
                assertEquals((long) n * SelftestEvent.SIZE, reader.bytes());
                assertEquals(0, reader.lost());
                assertEquals(0, reader.drain((b, o, l) -> { }, 10));
            }
        }
    }

    @Test
    void aFullRingCountsEveryEventItCouldNotTake() {
        int n = 1000;
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("xdp_emit"));
            obj.map("events").setMaxEntries(4096); // room for 56 records of 72 bytes
            obj.load();
            try (RingBufferReader reader = RingBufferReader.open(obj.map("events"), () -> obj.map("events_lost").sumPerCpuU64(0))) {
                obj.testRun("xdp_emit", FRAME, n);
                int read = 0;
                int got;
                while ((got = reader.drain((b, off, len) -> { }, 10_000)) > 0) {
                    read += got;
                }
                assertEquals(4096 / 72, read);
                assertEquals(n - read, reader.lost());
            }
        }
    }

    @Test
    void wakeupEndsABlockedPoll() throws Exception {
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("xdp_emit"));
            obj.load();
            RingBufferReader reader = RingBufferReader.open(obj.map("events"), () -> 0);
            int[] result = {0};
            Thread t = new Thread(() -> result[0] = reader.poll((b, o, l) -> { }, 10, 60_000));
            t.start();
            Thread.sleep(200);
            reader.wakeup();
            t.join(5000);
            assertTrue(!t.isAlive(), "poll still blocked after wakeup");
            assertEquals(-1, result[0]);
            reader.close();
        }
    }
}
