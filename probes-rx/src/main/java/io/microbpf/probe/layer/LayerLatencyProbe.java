package io.microbpf.probe.layer;

import io.microbpf.api.Clocks;
import io.microbpf.api.Event;
import io.microbpf.api.bpf.BpfMap;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.api.probe.BpfProbe;
import io.microbpf.api.probe.ConfigReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Shared by the rx and tx probes: per-layer latency histograms kept in the kernel (log2 buckets split
 * in four, per layer and per flow), read by the reader thread every {@code read.interval.ms} and on
 * demand; events mode adds one ring record per (sampled) packet, decoded into one
 * {@link LayerLatencyEvent} per layer. Mode, sampling and per-flow histograms switch live (written
 * into the object's {@code knobs} map, no reload); map sizes restart the probe.
 *
 * <p>Owner of nothing beyond what {@link BpfProbe} owns; the kernel maps are read only on the
 * probe's reader thread (other threads ask it through {@link #summaries()} / {@link #reset()}).
 */
public abstract class LayerLatencyProbe extends BpfProbe<LayerLatencyProbe.Settings> implements LatencyReport {
    public static final String FAMILY = "layer";
    private static final long REQUEST_WAIT_MS = 1500;

    /**
     * @param maxFlows sockets tracked per direction, and flows with per-flow histograms, LRU beyond it
     * @param maxInflight packets between two boundaries tracked at once, LRU beyond it
     * @param readIntervalMs how often the reader thread copies the per-layer histograms
     * @param events events mode (ring records) instead of histograms only; live
     * @param sampleEvery events mode: 1-in-N packets by segment hash; live
     * @param perFlow keep per-flow histograms in the kernel and report them; live
     */
    public record Settings(int maxFlows, int maxInflight, long readIntervalMs, boolean events, int sampleEvery,
            boolean perFlow) {
        /** Only what needs a reload counts: the live settings must not make BpfProbe restart the probe. */
        @Override
        public boolean equals(Object o) {
            return o instanceof Settings s && s.maxFlows == maxFlows && s.maxInflight == maxInflight
                    && s.readIntervalMs == readIntervalMs;
        }

        @Override
        public int hashCode() {
            return Objects.hash(maxFlows, maxInflight, readIntervalMs);
        }
    }

    /** One copy of the kernel's counts (raw form, see {@link LayerHistLayout#RAW_LONGS}). */
    private record Raw(long[][] layers, Map<String, long[][]> flows, long[] stats, Map<String, Long> live) {
        static Raw empty(int layers, int stats) {
            return new Raw(new long[layers][LayerHistLayout.RAW_LONGS], Map.of(), new long[stats], Map.of());
        }
    }

    private final String direction;
    private final List<String> layers;
    private final SegEventLayout.Spans spans;
    private final FlowKeyLayout.Cache flowCache = new FlowKeyLayout.Cache(); // reader thread only
    private final long[] tsScratch = new long[5]; // reader thread only
    private final long[] spanScratch; // reader thread only: start, end per layer
    private long wallOffsetNs = Clocks.offsetNs(Clocks.monotonicNs()); // reader thread; refreshed every tick
    private final List<String> statNames;
    private final String socksMap;
    private final List<String> inflightMaps;
    private final AtomicReference<CompletableFuture<Void>> pending = new AtomicReference<>();
    private volatile boolean resetRequested;
    private volatile Raw raw;
    private volatile Raw baseline;
    private volatile boolean running;
    /** layer_stats slot of LAYER_STAT_NEGATIVE (microbpf_layer.h). */
    static final int STAT_NEGATIVE = 15;
    private volatile long negative;
    private byte[] appliedKnobs;
    /** What the kernel object runs with (written into its knobs map): 1 events / 0 histogram, 1-in-N; -1 before. */
    private volatile long appliedEvents = -1;
    private volatile long appliedSampleEvery = -1;
    private long nextReadNs;

    /**
     * @param layers layer names in order (index = the kernel's layer number)
     * @param spans which instants of {@code seg_event.ts} delimit each layer
     * @param statNames names of the kernel's {@code layer_stats} slots
     * @param socksMap the per-socket map (sized by max.flows)
     * @param inflightMaps the in-flight packet maps (sized by max.inflight; their live entries are counted)
     */
    protected LayerLatencyProbe(String id, String pid, String direction, List<String> layers, SegEventLayout.Spans spans,
            List<String> statNames, String socksMap, List<String> inflightMaps) {
        super(id, FAMILY, pid);
        this.direction = direction;
        this.layers = List.copyOf(layers);
        this.spans = spans;
        this.statNames = List.copyOf(statNames);
        this.socksMap = socksMap;
        this.inflightMaps = List.copyOf(inflightMaps);
        this.raw = Raw.empty(layers.size(), statNames.size());
        this.spanScratch = new long[2 * layers.size()];
    }

    @Override
    protected Settings parseConfig(ConfigReader r) {
        String mode = r.getChoice("mode", "histogram", "histogram", "events");
        return new Settings(r.getInt("max.flows", 1024, 16, 1 << 20), r.getInt("max.inflight", 16384, 256, 1 << 22),
                r.getLong("read.interval.ms", 1000, 50, 60_000), "events".equals(mode),
                r.getInt("events.sample.every", 1, 1, 1 << 20), r.getBoolean("per.flow", true));
    }

    @Override
    protected void configureObject(BpfObject obj, Settings s) {
        obj.map(socksMap).setMaxEntries(s.maxFlows());
        obj.map("flow_hist").setMaxEntries(s.maxFlows());
        for (String m : inflightMaps) {
            obj.map(m).setMaxEntries(s.maxInflight());
        }
    }

    @Override
    protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {
        if (length != SegEventLayout.SIZE) {
            throw new IllegalArgumentException("unknown " + direction + " record of " + length + " bytes");
        }
        SegEventLayout.decode(ring, offset, direction, layers, spans, flowCache, wallOffsetNs, tsScratch, spanScratch, out);
    }

    /** The mode in force: {@code histogram} or {@code events}. */
    public String mode() {
        Settings s = config();
        return s != null && s.events() ? "events" : "histogram";
    }

    @Override
    protected void onTick(BpfObject obj, List<Event> out) {
        running = true;
        Settings s = config();
        byte[] knobs = KnobsLayout.encode(s.events(), s.sampleEvery(), s.perFlow());
        if (!Arrays.equals(knobs, appliedKnobs)) {
            obj.map("knobs").update(new byte[4], knobs);
            appliedKnobs = knobs;
            appliedEvents = s.events() ? 1 : 0;
            appliedSampleEvery = s.sampleEvery();
            log.info("probe {}: mode {}, 1-in-{} sampling, per-flow histograms {}", id(), mode(), s.sampleEvery(),
                    s.perFlow() ? "on" : "off");
        }
        CompletableFuture<Void> request = pending.getAndSet(null);
        boolean reset = resetRequested;
        long now = Clocks.monotonicNs();
        wallOffsetNs = Clocks.offsetNs(now); // asked about "now": re-measured only every few seconds
        if (request == null && !reset && now < nextReadNs) {
            return;
        }
        nextReadNs = now + s.readIntervalMs() * 1_000_000L;
        try {
            Raw r = read(obj, request != null || reset);
            raw = r;
            if (reset) {
                baseline = r;
                resetRequested = false;
            }
        } finally {
            if (request != null) {
                request.complete(null);
            }
        }
    }

    private Raw read(BpfObject obj, boolean full) {
        BpfMap hist = obj.map("layer_hist");
        long[][] layerRaw = new long[layers.size()][];
        for (int i = 0; i < layers.size(); i++) {
            byte[] v = hist.lookup(u32(i));
            layerRaw[i] = v == null ? new long[LayerHistLayout.RAW_LONGS] : LayerHistLayout.sumPerCpu(v);
        }
        BpfMap statsMap = obj.map("layer_stats");
        long[] stats = new long[statNames.size()];
        for (int i = 0; i < stats.length; i++) {
            stats[i] = statsMap.sumPerCpuU64(i);
        }
        negative = statsMap.sumPerCpuU64(STAT_NEGATIVE);
        Map<String, long[][]> flows = raw.flows();
        Map<String, Long> live = raw.live();
        if (full) {
            flows = new TreeMap<>();
            BpfMap fh = obj.map("flow_hist");
            for (byte[] key : fh.keys()) {
                byte[] v = fh.lookup(key);
                if (v == null) {
                    continue;
                }
                String label = FlowKeyLayout.decode(ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()), 0).label();
                long[][] perLayer = new long[layers.size()][];
                for (int layer = 0; layer < layers.size(); layer++) {
                    perLayer[layer] = LayerHistLayout.sumFlowLayerPerCpu(v, layer);
                }
                flows.put(label, perLayer);
            }
            live = new LinkedHashMap<>();
            for (String m : inflightMaps) {
                live.put(m, (long) obj.map(m).keys().size());
            }
        }
        return new Raw(layerRaw, flows, stats, live);
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }

    /** Asks the reader thread for a fresh full read (per-flow series included) and waits for it. */
    private void refresh() {
        if (!running) {
            return;
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        CompletableFuture<Void> prev = pending.getAndSet(f);
        if (prev != null) {
            f.whenComplete((v, t) -> prev.complete(null));
        }
        try {
            f.get(REQUEST_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the reader thread is gone or slow: report what was last read
        }
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public List<LatencySummary> summaries() {
        refresh();
        Raw r = raw;
        Raw b = baseline;
        List<LatencySummary> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            long[] d = LayerHistLayout.minus(r.layers()[i], b == null ? null : b.layers()[i]);
            out.add(LatencySummary.of(FAMILY, Map.of("layer", layers.get(i)), LayerHistLayout.toHistogram(d)));
        }
        Settings s = config();
        if (s == null || s.perFlow()) {
            r.flows().entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.naturalOrder())).forEach(e -> {
                long[][] base = b == null ? null : b.flows().get(e.getKey());
                for (int i = 0; i < layers.size(); i++) {
                    long[] cur = e.getValue()[i];
                    if (cur == null) {
                        continue;
                    }
                    long[] d = LayerHistLayout.minus(cur, base == null ? null : base[i]);
                    if (d[0] == 0) {
                        continue;
                    }
                    Map<String, String> labels = new LinkedHashMap<>();
                    labels.put("layer", layers.get(i));
                    labels.put("flow", e.getKey());
                    out.add(LatencySummary.of(FAMILY, labels, LayerHistLayout.toHistogram(d)));
                }
            });
        }
        return out;
    }

    @Override
    public void reset() {
        if (running) {
            resetRequested = true;
            refresh();
        } else {
            baseline = raw;
        }
    }

    /**
     * The kernel's counters (unmatched packets at each boundary, ring overflows, evictions, records):
     * how much of the traffic the histograms could not key, shown under the latency table; and the
     * mode the kernel object runs with ({@code <dir>.mode.events} 1 or 0, {@code <dir>.events.sample.every};
     * -1 before the reader's first tick).
     */
    @Override
    public Map<String, Long> counters() {
        Raw r = raw;
        Map<String, Long> c = new LinkedHashMap<>();
        for (int i = 0; i < statNames.size(); i++) {
            c.put(direction.toLowerCase() + "." + statNames.get(i), r.stats()[i]);
        }
        c.put(direction.toLowerCase() + ".negative", negative);
        r.live().forEach((m, n) -> c.put(direction.toLowerCase() + ".live." + m, n));
        // the mode the kernel object runs with (a configuration update takes effect on the reader's next tick)
        c.put(direction.toLowerCase() + ".mode.events", appliedEvents);
        c.put(direction.toLowerCase() + ".events.sample.every", appliedSampleEvery);
        c.putAll(derivedCounters(r.stats(), r.live()));
        return c;
    }

    /** Counters derived from the raw ones (e.g. evictions); none by default. */
    protected Map<String, Long> derivedCounters(long[] stats, Map<String, Long> live) {
        return Map.of();
    }

    @Override
    public synchronized void stop() {
        super.stop();
        running = false;
        appliedKnobs = null;
        appliedEvents = -1;
        appliedSampleEvery = -1;
        nextReadNs = 0;
        raw = Raw.empty(layers.size(), statNames.size());
        baseline = null;
        negative = 0;
        CompletableFuture<Void> f = pending.getAndSet(null);
        if (f != null) {
            f.complete(null);
        }
    }
}
