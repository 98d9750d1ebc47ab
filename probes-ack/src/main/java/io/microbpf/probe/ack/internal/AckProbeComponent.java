package io.microbpf.probe.ack.internal;

import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.Clocks;
import io.microbpf.api.bpf.BpfMap;
import io.microbpf.api.bpf.BpfMapIterator;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Btf;
import io.microbpf.api.bpf.Bytes;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.probe.BpfProbe;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The ack probe: TCP connection records from the kernel's TCP state changes, and MicroBPF's
 * flow-level metrics (every ACK, read, write and RTT sample counted in socket-local storage, the
 * socket's state read at each snapshot and at close), with periodic snapshots and a final record at close.
 * Config PID {@code io.microbpf.probe.ack}.
 */
@Component(name = AckProbeComponent.PID, service = {Probe.class, FlowTable.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class AckProbeComponent extends BpfProbe<AckProbeComponent.Settings> implements FlowTable {
    public static final String PID = "io.microbpf.probe.ack";

    /**
     * @param maxTrackedConnections bound of the in-kernel maps of open connections and flows (LRU beyond it)
     * @param snapshotIntervalMs how often a SNAPSHOT of every live flow is published
     * @param filter which connections are observed (applied in the kernel)
     */
    public record Settings(int maxTrackedConnections, long snapshotIntervalMs, FlowFilter filter) {}

    static final AttachPoint STATE_CHANGE = AttachPoint.required("tcp-state-change",
            new HookCandidate("conn_fentry", AttachKind.FENTRY, "fentry/tcp_set_state"),
            new HookCandidate("conn_tp_btf", AttachKind.TP_BTF, "tp_btf/inet_sock_set_state"),
            new HookCandidate("conn_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/inet_sock_set_state"));
    static final AttachPoint ACK = AttachPoint.optional("ack",
            new HookCandidate("ack_fentry", AttachKind.FENTRY, "fentry/tcp_rcv_established"),
            new HookCandidate("ack_tp_btf", AttachKind.TP_BTF, "tp_btf/tcp_probe"),
            new HookCandidate("ack_tracepoint", AttachKind.TRACEPOINT, "tracepoint/tcp/tcp_probe"));
    static final AttachPoint RTT_SAMPLE = AttachPoint.optional("rtt-sample",
            new HookCandidate("rtt_sockops", AttachKind.SOCKOPS, "sockops (RTT_CB)"));
    static final AttachPoint RETRANSMIT = AttachPoint.optional("retransmit",
            new HookCandidate("retrans_tp_btf", AttachKind.TP_BTF, "tp_btf/tcp_retransmit_skb"),
            new HookCandidate("retrans_tracepoint", AttachKind.TRACEPOINT, "tracepoint/tcp/tcp_retransmit_skb"));
    static final AttachPoint APP_READ = AttachPoint.optional("app-read",
            new HookCandidate("recv_tp_btf", AttachKind.TP_BTF, "tp_btf/sock_recv_length"),
            new HookCandidate("recv_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/sock_recv_length"));
    static final AttachPoint APP_WRITE = AttachPoint.optional("app-write",
            new HookCandidate("send_tp_btf", AttachKind.TP_BTF, "tp_btf/sock_send_length"),
            new HookCandidate("send_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/sock_send_length"));

    /**
     * What the last snapshot saw, published as one value so readers never mix two snapshots.
     *
     * @param evicted flows evicted from the {@code flows} LRU map
     * @param storageFailed flows whose {@code hot} socket-local storage could not be created
     */
    private record Snapshot(List<TcpFlowEvent> flows, long evicted, long storageFailed) {}

    /**
     * The kernel's counters in {@code ack.bpf.c}'s {@code .bss}, each a {@code __u64} found by name in
     * the object's BTF: flows inserted into and deleted from the {@code flows} map (evictions are the
     * difference less the live flows), and flows whose {@code hot} storage could not be created.
     */
    static final String FLOWS_INSERTED = "flows_inserted";
    static final String FLOWS_DELETED = "flows_deleted";
    static final String HOT_CREATE_FAILED = "hot_create_failed";
    static final List<String> BSS_COUNTERS = List.of(FLOWS_INSERTED, FLOWS_DELETED, HOT_CREATE_FAILED);

    private volatile Snapshot last = new Snapshot(List.of(), 0, 0);
    private long nextSnapshotNs;
    private boolean refresher = true;
    /**
     * The {@code merge_hot_flows} iterator over the {@code hot} sk_storage map: copies every tracked socket's
     * hot counters (ACKs, reads, writes, RTT samples, the send queue's write-time maximum) into its entry of
     * the {@code flows} LRU map, right before each snapshot. Owned by the running object (closed with it).
     */
    private static final String MERGE_PROGRAM = "merge_hot_flows";
    private BpfMapIterator merger;
    private BpfObject mergerObj;
    private boolean mergerWarned;
    private Btf.Var insertedVar;
    private Btf.Var deletedVar;
    private Btf.Var hotCreateFailedVar;

    /** Flows read per system call when taking a snapshot (BPF_MAP_LOOKUP_BATCH). */
    private static final int SNAPSHOT_BATCH_ENTRIES = 1024;

    public AckProbeComponent() {
        super("ack", "flow", PID);
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

    @Override
    protected String objectName() {
        return "ack";
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return List.of(STATE_CHANGE, ACK, RTT_SAMPLE, RETRANSMIT, APP_READ, APP_WRITE);
    }

    @Override
    protected Set<String> helperPrograms() {
        return Set.of(MERGE_PROGRAM, "refresh_flows");
    }

    @Override
    protected Settings parseConfig(ConfigReader reader) {
        return new Settings(reader.getInt("max.tracked.connections", 65536, 128, 1 << 22),
                reader.getLong("snapshot.interval.ms", 1000, 100, 3_600_000),
                FlowFilter.parse(reader));
    }

    @Override
    protected void configureObject(BpfObject obj, Settings settings) {
        obj.map("conns").setMaxEntries(settings.maxTrackedConnections());
        obj.map("flows").setMaxEntries(settings.maxTrackedConnections());
        settings.filter().apply(obj);
    }

    @Override
    protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {
        if (length == ConnEventLayout.SIZE) {
            out.add(ConnEventLayout.decode(ring, offset));
        } else if (length == FlowMetricsLayout.EVENT_SIZE) {
            out.add(FlowMetricsLayout.decodeEvent(ring, offset));
        } else {
            throw new IllegalArgumentException("unknown ack record of " + length + " bytes");
        }
    }

    /** Publishes a SNAPSHOT of every live flow once per snapshot interval. */
    @Override
    protected void onTick(BpfObject obj, List<Event> out) {
        long now = Clocks.monotonicNs();
        if (now < nextSnapshotNs) {
            return;
        }
        nextSnapshotNs = now + config().snapshotIntervalMs() * 1_000_000L;
        try {
            if (mergerObj != obj) {
                closeMerger();
                merger = obj.attachMapIterator(MERGE_PROGRAM, "hot");
                mergerObj = obj;
            }
            merger.run(); // per-socket ACK/read/write/RTT counters into the flow map
        } catch (RuntimeException e) {
            if (!mergerWarned) {
                mergerWarned = true;
                log.warn("probe ack: cannot merge the per-socket counters ({}); ACK, read, write and RTT counts"
                        + " of flows seen by tp_btf/sockops hooks are missing from snapshots", e.getMessage());
            }
        }
        if (refresher) {
            try {
                obj.run("refresh_flows"); // every entry re-read from its socket: the snapshot is "now"
            } catch (RuntimeException e) {
                refresher = false;
                log.warn("probe ack: cannot run refresh_flows ({}); snapshots show the values of the last ACK", e.getMessage());
            }
        }
        now = Clocks.monotonicNs();
        BpfMap map = obj.map("flows");
        List<TcpFlowEvent> live = new ArrayList<>();
        long snapshotNs = now;
        map.forEach(SNAPSHOT_BATCH_ENTRIES, (key, value) -> {
            long cookie = ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()).getLong();
            live.add(FlowMetricsLayout.decodeSnapshot(ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()), cookie, snapshotNs));
        });
        out.addAll(live);
        if (insertedVar == null) {
            insertedVar = obj.btf().datasecVar(".bss", FLOWS_INSERTED);
            deletedVar = obj.btf().datasecVar(".bss", FLOWS_DELETED);
            hotCreateFailedVar = obj.btf().datasecVar(".bss", HOT_CREATE_FAILED);
        }
        byte[] bss = obj.map(".bss").lookup(new byte[4]);
        long inserted = Bytes.u64At(bss, insertedVar.offset());
        long deleted = Bytes.u64At(bss, deletedVar.offset());
        last = new Snapshot(List.copyOf(live), Math.max(0, inserted - deleted - live.size()),
                Bytes.u64At(bss, hotCreateFailedVar.offset()));
    }

    @Override
    public synchronized void stop() {
        super.stop();
        closeMerger();
        mergerWarned = false;
        last = new Snapshot(List.of(), last.evicted(), last.storageFailed());
        insertedVar = null;
        deletedVar = null;
        hotCreateFailedVar = null;
        nextSnapshotNs = 0;
        refresher = true;
    }

    private void closeMerger() {
        if (merger != null) {
            merger.close();
        }
        merger = null;
        mergerObj = null;
    }

    @Override
    public List<TcpFlowEvent> flows() {
        return last.flows();
    }

    @Override
    public long evictedFlows() {
        return last.evicted();
    }

    @Override
    public long socketStorageFailedFlows() {
        return last.storageFailed();
    }

    /** Live flows and evictions of the same snapshot. */
    long[] liveAndEvicted() {
        Snapshot s = last;
        return new long[] {s.flows().size(), s.evicted()};
    }
}
