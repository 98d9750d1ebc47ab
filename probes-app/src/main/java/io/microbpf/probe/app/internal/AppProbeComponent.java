package io.microbpf.probe.app.internal;

import io.microbpf.api.Clocks;
import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Btf;
import io.microbpf.api.bpf.Bytes;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.api.probe.BpfProbe;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.probe.app.AppLatency;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The app probe: application-layer latency per request/response exchange (socket-queue wait, think
 * time, send path on the server side; request → response on the client side), paired by TCP
 * sequence numbers in the kernel. Publishes {@code app.exchange} records (sampled) and keeps
 * HdrHistogram percentiles per service port and per flow. Config PID {@code io.microbpf.probe.app}.
 */
@Component(name = AppProbeComponent.PID, service = {Probe.class, LatencyReport.class, AppLatency.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class AppProbeComponent extends BpfProbe<AppProbeComponent.Settings> implements AppLatency {
    public static final String PID = "io.microbpf.probe.app";

    /**
     * @param maxTrackedConnections bound of the in-kernel per-connection map (LRU beyond it)
     * @param maxPendingExchanges bound of the in-kernel map of open exchanges (LRU beyond it, counted)
     * @param exchangeTimeoutMs an open exchange with no activity for this long ages out (TIMEOUT)
     * @param sampleEvery publish one {@code app.exchange} record per this many answered exchanges (0: none)
     * @param maxFlowSeries flows with their own histograms (least recently updated dropped beyond it)
     * @param ports local or remote port filter applied in the kernel (empty: every connection)
     */
    public record Settings(int maxTrackedConnections, int maxPendingExchanges, long exchangeTimeoutMs, int sampleEvery,
            int maxFlowSeries, List<Integer> ports) {}

    static final int MAX_FILTER_PORTS = 8;

    static final AttachPoint STATE_CHANGE = AttachPoint.optional("tcp-state-change",
            new HookCandidate("state_fentry", AttachKind.FENTRY, "fentry/tcp_set_state"),
            new HookCandidate("state_tp_btf", AttachKind.TP_BTF, "tp_btf/inet_sock_set_state"),
            new HookCandidate("state_sockops", AttachKind.SOCKOPS, "sockops (ESTABLISHED_CB, STATE_CB)"),
            new HookCandidate("state_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/inet_sock_set_state"));
    static final AttachPoint DATA_QUEUED = AttachPoint.required("data-queued",
            new HookCandidate("queued_fentry", AttachKind.FENTRY, "fentry/tcp_data_ready"),
            new HookCandidate("queued_tp_btf", AttachKind.TP_BTF, "tp_btf/sk_data_ready"),
            new HookCandidate("queued_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/sk_data_ready"));
    static final AttachPoint APP_READ = AttachPoint.required("app-read",
            new HookCandidate("read_fentry", AttachKind.FENTRY, "fentry/skb_copy_datagram_iter"),
            new HookCandidate("read_tp_btf", AttachKind.TP_BTF, "tp_btf/skb_copy_datagram_iovec"),
            new HookCandidate("read_tracepoint", AttachKind.TRACEPOINT, "tracepoint/skb/skb_copy_datagram_iovec"),
            new HookCandidate("recvlen_tp_btf", AttachKind.TP_BTF, "tp_btf/sock_recv_length"),
            new HookCandidate("recvlen_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/sock_recv_length"));
    static final AttachPoint APP_WRITE = AttachPoint.required("app-write",
            new HookCandidate("write_fentry", AttachKind.FENTRY, "fentry/tcp_sendmsg_locked"),
            new HookCandidate("write_tp_btf", AttachKind.TP_BTF, "tp_btf/tcp_sendmsg_locked"));
    static final AttachPoint SEGMENT_OUT = AttachPoint.required("segment-out",
            new HookCandidate("tx_fentry", AttachKind.FENTRY, "fentry/__tcp_transmit_skb"),
            new HookCandidate("tx_cgroup_skb", AttachKind.CGROUP_SKB_EGRESS, "cgroup_skb/egress"));

    private final ExchangeHistograms histograms = new ExchangeHistograms(64);
    private final ExchangeLayout.Endpoints endpoints = new ExchangeLayout.Endpoints(4096); // reader thread only
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong closed = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong superseded = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private long answeredSinceSample;
    private volatile long evicted;
    private long evictedBefore;
    private long nextExpiryNs;
    private Btf.Var evictedVar;

    public AppProbeComponent() {
        super("app", "app", PID);
    }

    @Reference
    void bindPublisher(EventPublisher publisher) {
        setPublisher(publisher);
    }

    @Activate
    public void activate(Map<String, Object> props) {
        applyConfig(props);
    }

    @Modified
    void modified(Map<String, Object> props) {
        applyConfig(props);
    }

    @Deactivate
    public void deactivate() {
        release();
    }

    /**
     * This probe's default ring: 16 MiB (the base default is 4 MiB). One record per exchange end; at
     * 80,000 a second (40,000 requests/s with both ends on one host) 4 MiB lasts 0.35 s, and a reader
     * thread starved that long on a busy 2-CPU machine (GC, scheduling) lost records in the
     * benchmark; 16 MiB lasts 1.4 s and lost none there.
     */
    static final int DEFAULT_RING_BYTES = 16 << 20;

    @Override
    public synchronized void applyConfig(Map<String, ?> props) {
        Map<String, Object> withDefaults = new HashMap<>(props == null ? Map.of() : props);
        withDefaults.putIfAbsent("ringbuf.bytes", Integer.toString(DEFAULT_RING_BYTES));
        super.applyConfig(withDefaults);
    }

    @Override
    protected String objectName() {
        return "app";
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return List.of(STATE_CHANGE, DATA_QUEUED, APP_READ, APP_WRITE, SEGMENT_OUT);
    }

    @Override
    protected Set<String> helperPrograms() {
        return Set.of("expire_exchanges");
    }

    @Override
    protected Settings parseConfig(ConfigReader r) {
        List<Integer> ports = new ArrayList<>();
        for (String p : r.getList("filter.ports")) {
            try {
                int n = Integer.parseInt(p);
                if (n < 1 || n > 65535) {
                    throw new NumberFormatException();
                }
                ports.add(n);
            } catch (NumberFormatException e) {
                r.error("filter.ports: " + p + " is not a port (1..65535)");
            }
        }
        if (ports.size() > MAX_FILTER_PORTS) {
            r.error("filter.ports: at most " + MAX_FILTER_PORTS + " ports, got " + ports.size());
        }
        Settings s = new Settings(r.getInt("max.tracked.connections", 65536, 128, 1 << 22),
                r.getInt("max.pending.exchanges", 16384, 128, 1 << 22),
                r.getLong("exchange.timeout.ms", 30_000, 100, 86_400_000),
                r.getInt("record.sample.every", 1, 0, 1_000_000),
                r.getInt("histogram.max.flows", 64, 0, 65536),
                List.copyOf(ports));
        histograms.setMaxFlows(s.maxFlowSeries());
        return s;
    }

    @Override
    protected void configureObject(BpfObject obj, Settings s) {
        obj.map("conns").setMaxEntries(s.maxTrackedConnections());
        obj.map("pending").setMaxEntries(s.maxPendingExchanges());
        obj.setConstantLong("exchange_timeout_ns", s.exchangeTimeoutMs() * 1_000_000L);
        byte[] portBytes = new byte[2 * MAX_FILTER_PORTS];
        int n = Math.min(s.ports().size(), MAX_FILTER_PORTS);
        for (int i = 0; i < n; i++) {
            int p = s.ports().get(i);
            portBytes[2 * i] = (byte) p; // native (little-endian) u16
            portBytes[2 * i + 1] = (byte) (p >>> 8);
        }
        obj.setConstant("filter_ports", portBytes);
        obj.setConstantInt("filter_port_count", n);
    }

    @Override
    protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {
        if (length != ExchangeLayout.SIZE) {
            throw new IllegalArgumentException("unknown app record of " + length + " bytes");
        }
        AppExchangeEvent e = ExchangeLayout.decode(ring, offset, endpoints);
        switch (e.outcome()) {
            case "ANSWERED" -> {
                answered.incrementAndGet();
                histograms.record(e);
                int every = config().sampleEvery();
                if (every > 0 && answeredSinceSample++ % every == 0) {
                    out.add(e);
                    published.incrementAndGet();
                }
                return;
            }
            case "CLOSED" -> closed.incrementAndGet();
            case "TIMEOUT" -> timedOut.incrementAndGet();
            case "SUPERSEDED" -> superseded.incrementAndGet();
            default -> throw new IllegalArgumentException("unknown outcome in " + e);
        }
        out.add(e); // exchanges without a response are always published
        published.incrementAndGet();
    }

    /**
     * Ages out open exchanges and derives the LRU evictions of the pending map, both in the kernel
     * (no walk of the map from here: get_next_key on a map with tens of thousands of inserts and
     * deletes a second restarts whenever its current key was deleted, and stalled this thread).
     */
    @Override
    protected void onTick(BpfObject obj, List<Event> out) {
        long now = Clocks.monotonicNs();
        if (now < nextExpiryNs) {
            return;
        }
        nextExpiryNs = now + Math.min(1_000, Math.max(50, config().exchangeTimeoutMs() / 4)) * 1_000_000L;
        obj.run("expire_exchanges"); // ages out open exchanges and counts the pending map's evictions
        if (evictedVar == null) {
            evictedVar = obj.btf().datasecVar(".bss", "pending_evicted");
        }
        byte[] bss = obj.map(".bss").lookup(new byte[4]);
        evicted = evictedBefore + Bytes.u64At(bss, evictedVar.offset());
    }

    /**
     * Runs the per-record path (decode + histograms) on synthetic records once per component before
     * the first start, so the JIT has compiled it before real records arrive: at tens of thousands
     * of exchanges per second an interpreted reader falls behind and the ring overflows.
     */
    @Override
    public synchronized void start() {
        if (!warmedUp) {
            warmedUp = true;
            long t0 = System.nanoTime();
            ByteBuffer b = ByteBuffer.allocate(ExchangeLayout.SIZE).order(java.nio.ByteOrder.nativeOrder());
            ExchangeHistograms scratch = new ExchangeHistograms(16);
            ExchangeLayout.Endpoints names = new ExchangeLayout.Endpoints(64);
            for (int i = 0; i < WARMUP_RECORDS; i++) {
                b.putLong(ExchangeLayout.SOCK_COOKIE, 1 + (i & 31));
                b.putLong(ExchangeLayout.REQ_FIRST_NS, 1_000 + i);
                b.putLong(ExchangeLayout.REQ_LAST_NS, 2_000 + i);
                b.putLong(ExchangeLayout.QUEUED_NS, 1_500);
                b.putLong(ExchangeLayout.RESP_WRITE_NS, 3_000 + 2L * i);
                b.putLong(ExchangeLayout.SENT_NS, 4_000 + 2L * i);
                b.putLong(ExchangeLayout.RESP_ARRIVAL_NS, 5_000 + 3L * i);
                b.putShort(ExchangeLayout.FAMILY, (short) ((i & 1) == 0 ? 2 : 10));
                b.put(ExchangeLayout.ROLE, (byte) (1 + (i & 1)));
                b.put(ExchangeLayout.OUTCOME, (byte) 1);
                scratch.record(ExchangeLayout.decode(b, 0, names));
            }
            log.debug("probe app: record path warmed up in {} ms", (System.nanoTime() - t0) / 1_000_000);
        }
        super.start();
    }

    private static final int WARMUP_RECORDS = 40_000;
    private boolean warmedUp;

    @Override
    public synchronized void stop() {
        super.stop();
        evictedBefore = evicted;
        evictedVar = null;
        nextExpiryNs = 0;
    }

    @Override
    public List<LatencySummary> summaries() {
        return histograms.portSummaries();
    }

    @Override
    public List<LatencySummary> flowSummaries() {
        return histograms.flowSummaries();
    }

    @Override
    public void reset() {
        histograms.reset();
    }

    @Override
    public Counts counts() {
        return new Counts(answered.get(), closed.get(), timedOut.get(), superseded.get(), evicted, published.get());
    }
}
