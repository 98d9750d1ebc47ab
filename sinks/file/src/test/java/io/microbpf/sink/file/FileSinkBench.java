package io.microbpf.sink.file;

import io.microbpf.api.Event;
import io.microbpf.api.SinkStats;
import io.microbpf.core.internal.SinkFanout;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.microbpf.probe.layer.LayerLatencyEvent;
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
 * <p>Flat out runs three layouts interleaved, repetition by repetition: <i>before</i> (lines as they
 * come, one write(2) per batch: what the sink did until the page layout, and what a SIGKILL can cut
 * mid-line), <i>now</i> (page-packed lines, one pwrite per page: the sink's behaviour) and
 * <i>page-packed, one write per batch</i> (an alternative: the same padding, fewer system calls). It
 * also measures the padding's space overhead on tcp.flow (~750 B) and latency.layer (~300 B) lines.
 *
 * <p>usage: FileSinkBench <directory> <reps> <seconds per run>
 */
public final class FileSinkBench {
    static TcpFlowEvent flow(long i) {
        return new TcpFlowEvent("SNAPSHOT", 4, "10.220.0.1", (int) (i % 60000), "10.220.0.2", 443, 4026531840L, i, 1234, "java",
                3, 65535, 131072, 10, 1448, 0, 1_000_000 + i, 2_000_000 + i, 1, 0, 100, 200, 5, 500, 90, 2_000_000, 40,
                1_000_000, 30, 1700, 1_500_000_000L, "Open", 1_000_000_000L + i, 1_700_000_000_000_000_000L + i);
    }

    static LayerLatencyEvent layer(long i) {
        return new LayerLatencyEvent("RX", "RX-TCP", 4, "10.220.0.2", 5201, "10.220.0.1", (int) (40000 + i % 20000), 1_000_000_000L + i * 1448,
                1448, (i * 2654435761L) & 0xffffffffL, 2_000 + i * 7919 % 60_000, 1_000_000_000_000L + i * 10_000,
                1_000_000_000_000L + i * 10_000 + 2_000 + i * 7919 % 60_000, 1_700_000_000_000_000_000L + i * 10_000);
    }

    /** The layouts compared flat out. */
    enum Layout {
        BEFORE("before: lines as they come, one write per batch", false, Integer.MAX_VALUE),
        NOW("now: page-packed, one pwrite per page", true, 1),
        PACKED_ONE_WRITE("page-packed, one write per batch", true, Integer.MAX_VALUE);

        final String label;
        final boolean pad;
        final int maxPagesPerWrite;

        Layout(String label, boolean pad, int maxPagesPerWrite) {
            this.label = label;
            this.pad = pad;
            this.maxPagesPerWrite = maxPagesPerWrite;
        }

        FileSink open(Path dir) {
            return new FileSink(settings(dir), System::currentTimeMillis, PageLayout.systemPageBytes(), pad, maxPagesPerWrite);
        }
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

    /** Flat out: deliver() in a loop on one thread; events/s, bytes/s, file bytes per event. */
    static double[] flatOut(Path dir, double seconds, Layout layout) throws Exception {
        clean(dir);
        List<List<Event>> batches = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            batches.add(batch(i * 512L, 512));
        }
        long n = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        try (FileSink sink = layout.open(dir)) {
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
        return new double[] {n / s, bytes / s, (double) bytes / n};
    }

    /** Padding overhead: {events, line bytes (without padding), padding bytes} for n events in batches of batchSize. */
    static long[] padding(Path dir, java.util.function.LongFunction<Event> event, int n, int batchSize) throws Exception {
        clean(dir);
        long padding;
        try (FileSink sink = Layout.NOW.open(dir)) {
            for (long i = 0; i < n; i += batchSize) {
                List<Event> b = new ArrayList<>(batchSize);
                for (long j = i; j < Math.min(n, i + batchSize); j++) {
                    b.add(event.apply(j));
                }
                sink.deliver(b);
            }
            padding = sink.paddingBytes();
        }
        long bytes;
        try (Stream<Path> files = Files.list(dir)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        if (lines(dir) != n) {
            throw new AssertionError("the files do not hold " + n + " lines");
        }
        return new long[] {n, bytes - padding, padding};
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
        int pageBytes = PageLayout.systemPageBytes();

        System.out.println("Padding (page " + pageBytes + " bytes), 200 000 events per row:");
        System.out.println();
        System.out.println("| event | batch size | mean line bytes | padding bytes per event | space overhead |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (String type : new String[] {"tcp.flow", "latency.layer", "mixed, 1 tcp.flow : 4 latency.layer"}) {
            java.util.function.LongFunction<Event> event = type.equals("tcp.flow") ? FileSinkBench::flow
                    : type.equals("latency.layer") ? FileSinkBench::layer : i -> i % 5 == 0 ? flow(i) : layer(i);
            for (int batchSize : new int[] {512, 1}) {
                long[] p = padding(dir, event, 200_000, batchSize);
                System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.1f | %.2f %% |%n", type, batchSize, (double) p[1] / p[0],
                        (double) p[2] / p[0], 100.0 * p[2] / p[1]);
            }
        }
        System.out.println();

        for (Layout l : Layout.values()) {
            flatOut(dir, 2, l); // JIT warm-up
        }
        java.util.Map<Layout, List<Double>> rates = new java.util.EnumMap<>(Layout.class);
        System.out.println("Flat out (512-event batches of tcp.flow), the three layouts interleaved:");
        System.out.println();
        System.out.println("| run | layout | events/s | MB/s written | file bytes per event |");
        System.out.println("|---|---|---:|---:|---:|");
        Layout[] order = Layout.values();
        for (int r = 1; r <= reps; r++) {
            for (int k = 0; k < order.length; k++) {
                Layout l = order[(k + r) % order.length]; // rotate the order from one repetition to the next
                double[] flat = flatOut(dir, seconds, l);
                rates.computeIfAbsent(l, x -> new ArrayList<>()).add(flat[0]);
                System.out.printf(Locale.ROOT, "| %d | %s | %.0f | %.1f | %.1f |%n", r, l.label, flat[0], flat[1] / 1e6, flat[2]);
            }
        }
        System.out.println();
        double before = median(rates.get(Layout.BEFORE));
        for (Layout l : Layout.values()) {
            System.out.printf(Locale.ROOT, "- %s: median %.0f events/s over %d repetitions (%.2f x before)%n", l.label,
                    median(rates.get(l)), reps, median(rates.get(l)) / before);
        }
        System.out.println();

        System.out.println("Through the dispatcher, the sink as it is now:");
        System.out.println();
        System.out.println("| run | offered events/s | published | written (= lines in the files) | dropped | failed |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        double now = median(rates.get(Layout.NOW));
        for (int r = 1; r <= reps; r++) {
            for (double fraction : new double[] {0.5, 0.8, 1.0, 1.3}) {
                double rate = Math.round(now * fraction / 1000) * 1000.0;
                long[] o = offered(dir, rate, seconds);
                System.out.printf(Locale.ROOT, "| %d | %.0f (%.0f %% of the flat-out median) | %d | %d | %d | %d |%n",
                        r, rate, fraction * 100, o[0], o[1], o[2], o[3]);
            }
        }
        clean(dir);
    }

    static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }
}
