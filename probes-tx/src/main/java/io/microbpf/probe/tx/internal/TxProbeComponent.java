package io.microbpf.probe.tx.internal;

import io.microbpf.api.EventPublisher;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.probe.layer.LayerLatencyProbe;
import io.microbpf.probe.layer.SegEventLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The tx probe: time each transmitted TCP segment spends in the TCP, IP, QDISC and MAC layers of the
 * kernel (tx.bpf.c). Config PID {@code io.microbpf.probe.tx}; services {@link Probe} and
 * {@link LatencyReport} (family {@code layer}, labels {@code layer=TX-TCP|TX-IP|TX-QDISC|TX-MAC}, plus
 * {@code flow} for per-flow series).
 */
@Component(name = TxProbeComponent.PID, service = {Probe.class, LatencyReport.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class TxProbeComponent extends LayerLatencyProbe {
    public static final String PID = "io.microbpf.probe.tx";
    static final List<String> LAYERS = List.of("TX-TCP", "TX-IP", "TX-QDISC", "TX-MAC");
    /** tx.h TX_STAT_*, in slot order. */
    static final List<String> STATS = List.of("unmatched.write", "unmatched.dev-queue", "unmatched.xmit",
            "seg.inserted", "seg.consumed", "records", "writes-lapped", "evicted.ip", "evicted.devq", "queued");

    /** The seed's tcp_write_queue_tail is inline (no hook); tcp_sendmsg_locked is where it is called. */
    static final AttachPoint TCP_START = AttachPoint.required("tx-tcp-start",
            new HookCandidate("tx_write_fentry", AttachKind.FENTRY, "fentry/tcp_sendmsg_locked"),
            new HookCandidate("tx_write_tp_btf", AttachKind.TP_BTF, "tp_btf/tcp_sendmsg_locked"),
            new HookCandidate("tx_write_raw_tp", AttachKind.RAW_TRACEPOINT, "raw_tracepoint/tcp_sendmsg_locked"));
    static final AttachPoint IP_START = AttachPoint.required("tx-ip-start",
            new HookCandidate("tx_ip_fentry", AttachKind.FENTRY, "fentry/ip_queue_xmit"),
            new HookCandidate("tx_ip_cgroup", AttachKind.CGROUP_SKB_EGRESS, "cgroup_skb/egress"));
    /** Only where fentry serves tx-ip-start (ip_queue_xmit is IPv4 only); cgroup egress covers both. */
    static final AttachPoint IP6_START = AttachPoint.optional("tx-ip6-start",
            new HookCandidate("tx_ip6_fentry", AttachKind.FENTRY, "fentry/inet6_csk_xmit"));
    static final AttachPoint DEV_QUEUE = AttachPoint.required("tx-dev-queue",
            new HookCandidate("tx_devq_fentry", AttachKind.FENTRY, "fentry/__dev_queue_xmit"),
            new HookCandidate("tx_devq_tp_btf", AttachKind.TP_BTF, "tp_btf/net_dev_queue"),
            new HookCandidate("tx_devq_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/net_dev_queue"));
    /**
     * A packet that enters a qdisc moves from the per-CPU table (keyed by skb, dev_queue_xmit ->
     * driver on one CPU) to the tx_segs hash keyed by segment (it may leave from another CPU, split
     * into new skbs). Without this hook such packets are counted as unmatched.xmit.
     */
    static final AttachPoint ENQUEUE = AttachPoint.optional("tx-qdisc-enqueue",
            new HookCandidate("tx_enq_tp_btf", AttachKind.TP_BTF, "tp_btf/qdisc_enqueue"),
            new HookCandidate("tx_enq_tracepoint", AttachKind.TRACEPOINT, "tracepoint/qdisc/qdisc_enqueue"));
    static final AttachPoint DEQUEUE = AttachPoint.optional("tx-qdisc-dequeue",
            new HookCandidate("tx_deq_tp_btf", AttachKind.TP_BTF, "tp_btf/qdisc_dequeue"),
            new HookCandidate("tx_deq_tracepoint", AttachKind.TRACEPOINT, "tracepoint/qdisc/qdisc_dequeue"));
    static final AttachPoint XMIT = AttachPoint.required("tx-xmit",
            new HookCandidate("tx_xmit_fentry", AttachKind.FENTRY, "fentry/dev_hard_start_xmit"),
            new HookCandidate("tx_xmit_tp_btf", AttachKind.TP_BTF, "tp_btf/net_dev_start_xmit"),
            new HookCandidate("tx_xmit_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/net_dev_start_xmit"));

    public TxProbeComponent() {
        super("tx", PID, "TX", LAYERS, TxProbeComponent::spans, STATS, "tx_socks", List.of("tx_segs"));
    }

    /**
     * TX-TCP ts0..ts1, TX-IP ts1..ts2, TX-QDISC ts2..ts3 (0 long when it never waited in a qdisc:
     * ts3 = 0), TX-MAC ts3 (or ts2) .. ts4.
     */
    static void spans(long[] ts, long[] startEnd) {
        long left = ts[3] != 0 ? ts[3] : ts[2]; // left the qdisc, or dev_queue_xmit when it bypassed one
        SegEventLayout.span(startEnd, 0, ts[0], ts[1]);
        SegEventLayout.span(startEnd, 1, ts[1], ts[2]);
        SegEventLayout.span(startEnd, 2, ts[2], left); // 0 ns when it bypassed the qdisc
        SegEventLayout.span(startEnd, 3, left, ts[4]);
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
        return "tx";
    }

    public static List<AttachPoint> hookLists() {
        return List.of(TCP_START, IP_START, IP6_START, DEV_QUEUE, ENQUEUE, DEQUEUE, XMIT);
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return hookLists();
    }

    @Override
    protected Map<String, Long> derivedCounters(long[] stats, Map<String, Long> live) {
        Map<String, Long> c = new LinkedHashMap<>();
        Long liveSegs = live.get("tx_segs");
        if (liveSegs != null) {
            c.put("tx.evicted.seg", Math.max(0, stats[3] - stats[4] - liveSegs));
        }
        return c;
    }
}
