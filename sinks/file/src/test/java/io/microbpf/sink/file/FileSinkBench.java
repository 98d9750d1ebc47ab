package io.microbpf.sink.file;

import io.microbpf.api.Event;
import io.microbpf.api.SinkStats;
import io.microbpf.core.internal.SinkFanout;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Benchmark (not a test; bench/run-sink-bench.sh runs it): how many events per second the file sink
 * writes, first flat out (deliver in a loop), then behind the real dispatcher (SinkFanout, default
 * 100 000-event queue) at fixed offered rates, counting drops. Events are tcp.flow records (the
 * largest event type, ~750 bytes of JSON). Every run counts the lines in the files it wrote and
 * checks them against the dispatcher's delivered count.
 *
 * <p>usage: FileSinkBench <directory> <reps> <seconds per run>
 */
public final class FileSinkBench {
    static TcpFlowEvent flow(long i) {
        return new TcpFlowEvent("SNAPSHOT", 4, "10.220.0.1", (int) (i % 60000), "10.220.0.2", 443, 4026531840L, i, 1234, "java",
                3, 65535, 131072, 10, 1448, 0, 1_000_000 + i, 2_000_000 + i, 1, 0, 100, 200, 5, 500, 90, 2_000_000, 40,
                1_000_000, 30, 1700, 1_500_000_000L, "Open", 1_000_000_000L + i, 1_700_000_000_000_000_000L + i);
    }

    static List<Event> batch(long from, int n) {
        List<Event> b = new ArrayList<>(n);
        for (long i = from; i < from + n; i++) {
            b.add(flow(i));
        }
        return b;
    }

    static FileSink.Settings settings(Path dir) {
        return new FileSink.Settings(dir, "events", 100L << 20, 3_600_000, 10_000, false, "interval", 1000, Set.of());
    }

    static long lines(Path dir) throws IOException {
        long n = 0;
        byte[] buf = new byte[1 << 20];
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                try (InputStream in = Files.newInputStream(p)) {
                    for (int r; (r = in.read(buf)) > 0; ) {
                        for (int i = 0; i < r; i++) {
                            if (buf[i] == '\n') {
                                n++;
                            }
                        }
                    }
                }
            }
        }
        return n;
    }

    static void clean(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Flat out: deliver() in a loop on one thread; events/s and bytes/s. */
    static double[] flatOut(Path dir, double seconds) throws Exception {
        clean(dir);
        List<List<Event>> batches = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            batches.add(batch(i * 512L, 512));
        }
        long n = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        try (FileSink sink = new FileSink(settings(dir))) {
            while (System.nanoTime() < end) {
                sink.deliver(batches.get((int) (n / 512 % 64)));
                n += 512;
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        long bytes;
        try (Stream<Path> files = Files.list(dir)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        long written = lines(dir);
        if (written != n) {
            throw new AssertionError("wrote " + n + " events but the files hold " + written + " lines");
        }
        return new double[] {n / s, bytes / s};
    }

    /** Offered rate through the real dispatcher; returns {published, delivered, dropped, failed}. */
    static long[] offered(Path dir, double ratePerS, double seconds) throws Exception {
        clean(dir);
        FileSink sink = new FileSink(settings(dir));
        long published = 0;
        SinkStats s;
        try (SinkFanout fanout = new SinkFanout(100_000)) {
            fanout.addSink(sink);
            int batchSize = 256;
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            long seq = 0;
            while (true) {
                long due = t0 + (long) (published / ratePerS * 1e9);
                long now = System.nanoTime();
                if (due >= end) {
                    break;
                }
                if (now < due) {
                    Thread.onSpinWait();
                    if (due - now > 200_000) {
                        Thread.sleep(0, 100_000);
                    }
                    continue;
                }
                fanout.publish(batch(seq, batchSize));
                seq += batchSize;
                published += batchSize;
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            do {
                s = fanout.sinkStats().get(0);
                Thread.sleep(10);
            } while (s.queuedEvents() > 0 && System.nanoTime() < deadline);
            Thread.sleep(100);
            s = fanout.sinkStats().get(0);
        }
        sink.close();
        long written = lines(dir);
        if (written != s.delivered()) {
            throw new AssertionError("delivered " + s.delivered() + " but the files hold " + written + " lines");
        }
        return new long[] {published, s.delivered(), s.dropped(), s.failed()};
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        double seconds = Double.parseDouble(args[2]);
        flatOut(dir, 2); // JIT warm-up
        List<Double> ceilings = new ArrayList<>();
        System.out.println("| run | mode | offered events/s | published | written (= lines in the files) | dropped | failed |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        for (int r = 1; r <= reps; r++) {
            double[] flat = flatOut(dir, seconds);
            ceilings.add(flat[0]);
            System.out.printf(Locale.ROOT, "| %d | flat out, deliver() in a loop | - | - | %.0f events/s (%.1f MB/s) | - | - |%n",
                    r, flat[0], flat[1] / 1e6);
            for (double fraction : new double[] {0.5, 0.8, 1.0, 1.3}) {
                double rate = Math.round(flat[0] * fraction / 1000) * 1000.0;
                long[] o = offered(dir, rate, seconds);
                System.out.printf(Locale.ROOT, "| %d | through the dispatcher (queue 100 000) | %.0f | %d | %d | %d | %d |%n",
                        r, rate, o[0], o[1], o[2], o[3]);
            }
        }
        clean(dir);
        ceilings.sort(null);
        System.out.printf(Locale.ROOT, "%nflat-out median: %.0f events/s over %d repetitions%n", ceilings.get(ceilings.size() / 2), reps);
    }
}
