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
    private static final long START_TIMEOUT_NS = 30_000_000_000L;

    private long events;
    private long gaps;
    private long nextSeq;
    private long firstNs;

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: RingBufferBench <pinned events map> <pinned events_lost map> <expected events>");
            System.exit(2);
        }
        System.exit(new RingBufferBench().run(args[0], args[1], Long.parseLong(args[2])));
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
        RingBufferReader.RecordHandler handler = (b, off, n) -> {
            if (events == 0) {
                firstNs = System.nanoTime();
            }
            long seq = b.getLong(off);
            if (n < 8 || seq != nextSeq) {
                gaps++;
            }
            nextSeq = seq + 1;
            events++;
        };
        long lastNs = 0;
        long start = System.nanoTime();
        try (RingBufferReader reader = RingBufferReader.open(eventsFd, dataSize, lost)) {
            System.err.println("consumer: ready");
            while (true) {
                int n = reader.poll(handler, Integer.MAX_VALUE, 100);
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
            long elapsed = events > 0 ? lastNs - firstNs : 0;
            System.out.printf("events=%d lost=%d gaps=%d elapsed_ns=%d rate_per_s=%.1f%n", events, lostNow, gaps, elapsed,
                    elapsed > 0 ? events * 1e9 / elapsed : 0.0);
            return events + lostNow == expected && gaps == 0 ? 0 : 1;
        }
    }
}
