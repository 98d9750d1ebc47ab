package io.microbpf.bench;

import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;
import io.microbpf.api.bpf.RingBufferReader;
import io.microbpf.core.internal.jna.LibBpf;

/**
 * Benchmark consumer (not a test): reads the pinned ring of bench/ringbuf_producer.bpf.c with our
 * Java reader, exactly as bench/consumer_c.c does with libbpf, and prints the same line:
 * {@code events=<n> lost=<n> gaps=<n> elapsed_ns=<n> rate_per_s=<x>}.
 * Usage: RingBufferBench PINNED_EVENTS PINNED_EVENTS_LOST EXPECTED_EVENTS
 */
public final class RingBufferBench {
    private static final long IDLE_NS = 2_000_000_000L;
    private static final int POLL_TIMEOUT_MS = Integer.getInteger("bench.pollTimeoutMs", 100);
    private static final long START_TIMEOUT_NS = 30_000_000_000L;

    private long events;
    private long gaps;
    private long nextSeq;
    private long firstNs;
    private RingBufferReader.RecordHandler handler;
    private final java.util.List<String> gapLog = new java.util.ArrayList<>();

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: RingBufferBench <pinned events map> <pinned events_lost map> <expected events>");
            System.exit(2);
        }
        System.exit(new RingBufferBench().run(args[0], args[1], Long.parseLong(args[2])));
    }

    /**
     * JIT-compiles the read path before the benchmark ring is mapped (the script starts the producer
     * only once it is): drains 2 M records of the selftest XDP program through a private ring, so
     * the measured run sees compiled code, as a long-running agent does.
     */
    private void warmUp() {
        byte[] elf;
        try (java.io.InputStream in = RingBufferBench.class.getResourceAsStream("/bpf/selftest.bpf.o")) {
            elf = in.readAllBytes();
        } catch (Exception e) {
            throw new IllegalStateException("warm-up needs /bpf/selftest.bpf.o (microbpf-bpf) on the classpath", e);
        }
        try (io.microbpf.api.bpf.BpfObject obj = io.microbpf.api.bpf.BpfObject.open("warmup", elf)) {
            obj.loadOnly(java.util.Set.of("xdp_emit"));
            obj.map("events").setMaxEntries(1 << 24);
            obj.load();
            try (RingBufferReader r = RingBufferReader.open(obj.map("events"), () -> 0)) {
                for (int round = 0; round < 20; round++) {
                    obj.testRun("xdp_emit", new byte[64], 100_000);
                    nextSeq = events; // the selftest sequence runs on across rounds
                    while (r.poll(handler, Integer.MAX_VALUE, 0) > 0) {
                        // drain everything, through the same handler and call sites as the real run
                    }
                }
            }
        }
        System.err.println("consumer: warmed up with " + events + " records, " + gaps + " gaps");
        gapLog.clear();
        events = 0;
        gaps = 0;
        nextSeq = 0;
        firstNs = 0;
    }

    private int run(String eventsPin, String lostPin, long expected) {
        LibBpf bpf = LibBpf.INSTANCE;
        int eventsFd = bpf.bpf_obj_get(eventsPin);
        int lostFd = bpf.bpf_obj_get(lostPin);
        if (eventsFd < 0 || lostFd < 0) {
            System.err.println("consumer: bpf_obj_get failed for " + eventsPin + " or " + lostPin);
            return 2;
        }
        Memory info = new Memory(128);
        info.clear();
        IntByReference len = new IntByReference(128);
        if (bpf.bpf_obj_get_info_by_fd(eventsFd, info, len) != 0) {
            System.err.println("consumer: bpf_obj_get_info_by_fd failed");
            return 2;
        }
        int dataSize = info.getInt(16); // struct bpf_map_info.max_entries
        Memory key = new Memory(4);
        key.setInt(0, 0);
        Memory value = new Memory(8);
        java.util.function.LongSupplier lost = () -> bpf.bpf_map_lookup_elem(lostFd, key, value) == 0 ? value.getLong(0) : 0;
        handler = (b, off, n) -> {
            if (events == 0) {
                firstNs = System.nanoTime();
            }
            long seq = b.getLong(off);
            if (n < 8 || seq != nextSeq) {
                gaps++;
                if (gapLog.size() < 10) {
                    gapLog.add("gap at event " + events + ": expected seq " + nextSeq + ", got " + seq + ", "
                            + (events == 0 ? 0 : (System.nanoTime() - firstNs) / 1_000_000) + " ms after the first event");
                }
            }
            nextSeq = seq + 1;
            events++;
        };
        warmUp();
        long lastNs = 0;
        long start = System.nanoTime();
        try (RingBufferReader reader = RingBufferReader.open(eventsFd, dataSize, lost)) {
            System.err.println("consumer: ready");
            while (true) {
                int n = reader.poll(handler, Integer.MAX_VALUE, POLL_TIMEOUT_MS);
                long t = System.nanoTime();
                if (n > 0) {
                    lastNs = t;
                    if (events < expected) {
                        continue;
                    }
                    break;
                }
                if (events + reader.lost() >= expected) {
                    break;
                }
                if (events == 0 ? t - start > START_TIMEOUT_NS : t - lastNs > IDLE_NS) {
                    break;
                }
            }
            long lostNow = reader.lost();
            gapLog.forEach(System.err::println);
            long elapsed = events > 0 ? lastNs - firstNs : 0;
            System.out.printf("events=%d lost=%d gaps=%d elapsed_ns=%d rate_per_s=%.1f%n", events, lostNow, gaps, elapsed,
                    elapsed > 0 ? events * 1e9 / elapsed : 0.0);
            return events + lostNow == expected && gaps == 0 ? 0 : 1;
        }
    }
}
