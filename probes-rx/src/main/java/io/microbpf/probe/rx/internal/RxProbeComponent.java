package io.microbpf.probe.rx.internal;

import io.microbpf.api.EventPublisher;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.probe.layer.LayerLatencyProbe;
import io.microbpf.probe.layer.SegEventLayout;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The rx probe: time each received TCP segment spends in the MAC, IP and TCP layers of the kernel
 * (rx.bpf.c). Config PID {@code io.microbpf.probe.rx}; services {@link Probe} and
 * {@link LatencyReport} (family {@code layer}, labels {@code layer=RX-MAC|RX-IP|RX-TCP}, plus
 * {@code flow} for per-flow series).
 */
@Component(name = RxProbeComponent.PID, service = {Probe.class, LatencyReport.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class RxProbeComponent extends LayerLatencyProbe {
    public static final String PID = "io.microbpf.probe.rx";
    static final List<String> LAYERS = List.of("RX-MAC", "RX-IP", "RX-TCP");
    /** The layer names, for other modules' tests. */
    public static final List<String> LAYERS_PUBLIC = LAYERS;
    /** rx.h RX_STAT_*, in slot order. */
    static final List<String> STATS = List.of("unmatched.ip-start", "unmatched.tcp-start", "ring-full",
            "unmatched.copy", "ip.inserted", "ip.consumed", "duplicate", "records", "evicted.ip", "evicted.mac", "reordered", "reordered.too-late");

    static final AttachPoint MAC_START = AttachPoint.required("rx-mac-start",
            new HookCandidate("rx_mac_fentry", AttachKind.FENTRY, "fentry/eth_type_trans"),
            new HookCandidate("rx_mac_tp_btf", AttachKind.TP_BTF, "tp_btf/netif_rx_entry"),
            new HookCandidate("rx_mac_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/netif_rx_entry"));
    /** NAPI drivers hand packets over through napi_gro_receive, not netif_rx: a second MAC start. */
    static final AttachPoint MAC_START_NAPI = AttachPoint.optional("rx-mac-start-napi",
            new HookCandidate("rx_mac_napi_tp_btf", AttachKind.TP_BTF, "tp_btf/napi_gro_receive_entry"),
            new HookCandidate("rx_mac_napi_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/napi_gro_receive_entry"));
    static final AttachPoint IP_START = AttachPoint.required("rx-ip-start",
            new HookCandidate("rx_ip_fentry", AttachKind.FENTRY, "fentry/ip_rcv"),
            new HookCandidate("rx_ip_tp_btf", AttachKind.TP_BTF, "tp_btf/netif_receive_skb"),
            new HookCandidate("rx_ip_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/netif_receive_skb"));
    /** Only where fentry serves rx-ip-start (ip_rcv is IPv4 only); the tracepoints cover both families. */
    static final AttachPoint IP6_START = AttachPoint.optional("rx-ip6-start",
            new HookCandidate("rx_ip6_fentry", AttachKind.FENTRY, "fentry/ipv6_rcv"));
    /**
     * cgroup_skb/ingress runs in tcp_v4_rcv/tcp_v6_rcv (tcp_filter) before the socket backlog, so it
     * comes before tcp_probe, which fires in tcp_rcv_established (after the backlog when the reader
     * holds the socket lock: that wait would count as IP time).
     */
    static final AttachPoint TCP_START = AttachPoint.required("rx-tcp-start",
            new HookCandidate("rx_tcp_fentry", AttachKind.FENTRY, "fentry/tcp_v4_rcv"),
            new HookCandidate("rx_tcp_cgroup", AttachKind.CGROUP_SKB_INGRESS, "cgroup_skb/ingress"),
            new HookCandidate("rx_tcp_tp_btf", AttachKind.TP_BTF, "tp_btf/tcp_probe"),
            new HookCandidate("rx_tcp_tracepoint", AttachKind.TRACEPOINT, "tracepoint/tcp/tcp_probe"));
    static final AttachPoint TCP6_START = AttachPoint.optional("rx-tcp6-start",
            new HookCandidate("rx_tcp6_fentry", AttachKind.FENTRY, "fentry/tcp_v6_rcv"));
    static final AttachPoint TCP_END = AttachPoint.required("rx-app-copy",
            new HookCandidate("rx_copy_fentry", AttachKind.FENTRY, "fentry/skb_copy_datagram_iter"),
            new HookCandidate("rx_copy_tp_btf", AttachKind.TP_BTF, "tp_btf/skb_copy_datagram_iovec"),
            new HookCandidate("rx_copy_tracepoint", AttachKind.TRACEPOINT, "tracepoint/skb/skb_copy_datagram_iovec"));

    public RxProbeComponent() {
        // rx_mac and rx_ip are small direct-mapped per-CPU arrays (rx.h): no LRU to size, evictions counted in the kernel
        super("rx", PID, "RX", LAYERS, RxProbeComponent::spans, STATS, "rx_socks", List.of());
    }

    /** RX-MAC ts0..ts1, RX-IP ts1..ts2, RX-TCP ts2..ts3; a layer whose start was not seen is skipped. */
    static void spans(long[] ts, long[] startEnd) {
        SegEventLayout.span(startEnd, 0, ts[0], ts[1]);
        SegEventLayout.span(startEnd, 1, ts[1], ts[2]);
        SegEventLayout.span(startEnd, 2, ts[2], ts[3]);
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
        return "rx";
    }

    /** The hook lists, in declaration order (a test can swap the fentry candidates' outcome). */
    public static List<AttachPoint> hookLists() {
        return List.of(MAC_START, MAC_START_NAPI, IP_START, IP6_START, TCP_START, TCP6_START, TCP_END);
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return hookLists();
    }
}
