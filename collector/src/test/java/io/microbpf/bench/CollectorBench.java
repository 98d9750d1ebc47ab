package io.microbpf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Clocks;
import io.microbpf.clocksync.ClockSync;
import io.microbpf.clocksync.PeerClock;
import io.microbpf.collector.internal.CollectorComponent;
import io.microbpf.collector.internal.SegmentMatcher;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Collector benchmark (run by bench/run-collector-bench.sh, not a test):
 * <ul>
 * <li>matcher: pre-built records offered to {@link SegmentMatcher} (TX of a segment, its RX
 * {@code lag} records later, as pushes from two agents interleave): matching alone;</li>
 * <li>http: the whole ingest path, pushes in the HTTP push sink's wire format (batches of 1000
 * events, one agent's TX and the other's RX, two sender threads) POSTed to the collector component's
 * endpoint on loopback: HTTP, JSON decode, clock correction, matching;</li>
 * <li>memory at a 10 s window: the worst case where every record waits the whole window (its
 * partner never comes), at the rate the http path sustained: pending records = rate × 10 s.</li>
 * </ul>
 * Repetitions alternate the two throughput modes. Prints one markdown section on stdout.
 */
public final class CollectorBench {
    private static final String[] FLOW_SRC = new String[1000];
    static {
        for (int i = 0; i < FLOW_SRC.length; i++) {
            FLOW_SRC[i] = "10.240." + (100 + i / 250) + "." + (1 + i % 250);
        }
    }

    private CollectorBench() {}

    static NicSegmentEvent seg(boolean tx, long i, long ts) {
        int flow = (int) (i % FLOW_SRC.length);
        return new NicSegmentEvent(tx ? "TX" : "RX", 4, FLOW_SRC[flow], 40000 + flow, "10.240.200.1", 24001, (i * 1448) & 0xffffffffL,
                12345, 1448, (int) (i & 0xffff), 0x10, 2, "eth0", 4026531840L, 1, 0, "tp_btf/net_dev_start_xmit", ts, ts);
    }

    static ClockSync clock() {
        return new ClockSync() {
            @Override
            public List<PeerClock> peers() {
                return List.of(new PeerClock("b", "x:1", 1_000_000_000L, 10_000, 0, 20_000, 32, 0, true));
            }

            @Override
            public Optional<PeerClock> peer(String id) {
                return peers().stream().filter(p -> p.peerId().equals(id)).findFirst();
            }

            @Override
            public String agentId() {
                return "a";
            }

            @Override
            public long injectedOffsetNs() {
                return 0;
            }

            @Override
            public long nowNs() {
                return Clocks.monotonicNs();
            }
        };
    }

    /** Pairs per second through the matcher alone. */
    static double matcherRate(int pairs, int lag) {
        NicSegmentEvent[] tx = new NicSegmentEvent[pairs];
        NicSegmentEvent[] rx = new NicSegmentEvent[pairs];
        for (int i = 0; i < pairs; i++) {
            tx[i] = seg(true, i, 1000L * i);
            rx[i] = seg(false, i, 1000L * i + 30_000 + 1_000_000_000L);
        }
        SegmentMatcher m = new SegmentMatcher(10_000_000_000L, 10_000_000, 1024);
        long t0 = System.nanoTime();
        for (int i = 0; i < pairs + lag; i++) {
            if (i < pairs) {
                m.offer("a", tx[i], tx[i].monotonicNs(), t0);
            }
            if (i >= lag) {
                NicSegmentEvent r = rx[i - lag];
                m.offer("b", r, r.monotonicNs() - 1_000_000_000L, t0);
            }
        }
        long ns = System.nanoTime() - t0;
        if (m.stats().matched() != pairs) {
            throw new IllegalStateException("matched " + m.stats().matched() + " of " + pairs);
        }
        return pairs / (ns / 1e9);
    }

    /** Pairs per second through HTTP + JSON + matching. */
    static double httpRate(int pairs, int batch, int port, ObjectMapper json) throws Exception {
        List<byte[]> a = new ArrayList<>();
        List<byte[]> b = new ArrayList<>();
        for (int start = 0; start < pairs; start += batch) {
            List<NicSegmentEvent> txs = new ArrayList<>();
            List<NicSegmentEvent> rxs = new ArrayList<>();
            for (int i = start; i < Math.min(pairs, start + batch); i++) {
                txs.add(seg(true, i, 1000L * i));
                rxs.add(seg(false, i, 1000L * i + 30_000 + 1_000_000_000L));
            }
            a.add(json.writeValueAsBytes(Map.of("agent", "a", "sentWallNs", 1, "events", txs)));
            b.add(json.writeValueAsBytes(Map.of("agent", "b", "sentWallNs", 1, "events", rxs)));
        }
        CollectorComponent c = new CollectorComponent();
        c.bindClock(clock());
        c.activate(Map.of("listen.address", "127.0.0.1", "listen.port", Integer.toString(port), "window.ms", "10000",
                "max.pending", "10000000"));
        try {
            URI url = URI.create(c.endpoint());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            long t0 = System.nanoTime();
            Thread ta = sender(http, url, a);
            Thread tb = sender(http, url, b);
            ta.join();
            tb.join();
            long ns = System.nanoTime() - t0;
            long matched = c.stats().matched();
            if (matched != pairs) {
                throw new IllegalStateException("matched " + matched + " of " + pairs + ": " + c.stats());
            }
            return pairs / (ns / 1e9);
        } finally {
            c.deactivate();
        }
    }

    static Thread sender(HttpClient http, URI url, List<byte[]> bodies) {
        Thread t = new Thread(() -> {
            for (byte[] body : bodies) {
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() != 204) {
                        throw new IllegalStateException("HTTP " + r.statusCode());
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        t.start();
        return t;
    }

    static long usedHeapAfterGc() {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap held by {@code n} pending records whose partner never comes (they wait the whole window). */
    static long[] pendingMemory(int n) {
        long before = usedHeapAfterGc();
        SegmentMatcher m = new SegmentMatcher(10_000_000_000L, n + 1, 1024);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            // fresh strings per record, as JSON decoding makes them
            NicSegmentEvent e = seg(true, i, i);
            NicSegmentEvent copy = new NicSegmentEvent(e.direction(), 4, new String(e.srcAddress()), e.srcPort(),
                    new String(e.dstAddress()), e.dstPort(), e.seq(), e.ack(), e.payloadBytes(), e.ipId(), 0x10, 2, "eth0", 1, 1, 0,
                    "x", i, i);
            m.offer("a", copy, i, t0);
        }
        long after = usedHeapAfterGc();
        if (m.stats().pendingTx() != n) {
            throw new IllegalStateException("pending " + m.stats().pendingTx());
        }
        return new long[] {after - before, m.stats().pendingTx()};
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>(Map.of("reps", "5", "matcher-pairs", "1000000", "http-pairs", "200000",
                "batch", "1000", "lag", "2000", "port", "24390"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int reps = Integer.parseInt(opt.get("reps"));
        ObjectMapper json = new ObjectMapper();
        // warm-up (not recorded)
        matcherRate(200_000, Integer.parseInt(opt.get("lag")));
        httpRate(20_000, Integer.parseInt(opt.get("batch")), Integer.parseInt(opt.get("port")), json);
        double[] matcher = new double[reps];
        double[] http = new double[reps];
        StringBuilder rows = new StringBuilder();
        for (int r = 0; r < reps; r++) {
            boolean matcherFirst = r % 2 == 0;
            for (int k = 0; k < 2; k++) {
                if ((k == 0) == matcherFirst) {
                    matcher[r] = matcherRate(Integer.parseInt(opt.get("matcher-pairs")), Integer.parseInt(opt.get("lag")));
                    rows.append(String.format(Locale.ROOT, "| %d | matcher | %s | %.0f |%n", r + 1, opt.get("matcher-pairs"), matcher[r]));
                } else {
                    http[r] = httpRate(Integer.parseInt(opt.get("http-pairs")), Integer.parseInt(opt.get("batch")),
                            Integer.parseInt(opt.get("port")), json);
                    rows.append(String.format(Locale.ROOT, "| %d | http | %s | %.0f |%n", r + 1, opt.get("http-pairs"), http[r]));
                }
            }
        }
        double mMed = median(matcher);
        double hMed = median(http);
        int pendingAtWindow = (int) Math.ceil(hMed * 2 * 10); // two records (TX and RX) per pair per second, for 10 s
        long[] mem = pendingMemory(pendingAtWindow);
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "| rep | mode | pairs | pairs/s |%n|---:|---|---:|---:|%n%s%n", rows);
        System.out.printf(Locale.ROOT, "- matcher alone: median **%.2f M pairs/s** (min %.2f, max %.2f, %d reps)%n", mMed / 1e6,
                Arrays.stream(matcher).min().getAsDouble() / 1e6, Arrays.stream(matcher).max().getAsDouble() / 1e6, reps);
        System.out.printf(Locale.ROOT, "- HTTP push ingest (JSON decode + clock correction + matching): median **%.0f k pairs/s** "
                + "(min %.0f, max %.0f, %d reps), i.e. %.0f k records/s%n", hMed / 1e3, Arrays.stream(http).min().getAsDouble() / 1e3,
                Arrays.stream(http).max().getAsDouble() / 1e3, reps, 2 * hMed / 1e3);
        System.out.printf(Locale.ROOT, "- Memory at a 10 s window, worst case (no record finds its partner, so every record of "
                + "the last 10 s is pending) at the HTTP rate: %d pending records hold **%.0f MB** of heap (%.0f bytes per record); "
                + "max heap of this JVM %d MB%n", mem[1], mem[0] / 1e6, mem[0] / (double) mem[1], rt.maxMemory() >> 20);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
