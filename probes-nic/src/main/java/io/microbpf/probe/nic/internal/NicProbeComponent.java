package io.microbpf.probe.nic.internal;

import io.microbpf.api.Clocks;
import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Btf;
import io.microbpf.api.bpf.Bytes;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.probe.BpfProbe;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.clocksync.AgentClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The nic probe: one {@code nic.segment} record per sampled TCP segment at NIC TX and NIC RX of the
 * watched devices, stamped in the agent's record clock ({@link AgentClock}). Config PID
 * {@code io.microbpf.probe.nic}.
 */
@Component(name = NicProbeComponent.PID, service = Probe.class, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
public class NicProbeComponent extends BpfProbe<NicProbeComponent.Settings> {
    public static final String PID = "io.microbpf.probe.nic";

    /**
     * @param sampleOneIn keep one segment in this many (by the in-flight-invariant hash)
     * @param filter which devices are watched
     */
    public record Settings(long sampleOneIn, NicFilter filter) {}

    /** The in-kernel counters (see nic.bpf.c). */
    public record Counters(long segmentsSeen, long segmentsSampled, long headersNonlinear, long gsoTruncated) {}

    static final AttachPoint NIC_TX = AttachPoint.required("nic-tx",
            new HookCandidate("nic_tx_fentry", AttachKind.FENTRY, "fentry/dev_hard_start_xmit"),
            new HookCandidate("nic_tx_tp_btf", AttachKind.TP_BTF, "tp_btf/net_dev_start_xmit"),
            new HookCandidate("nic_tx_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/net_dev_start_xmit"));
    static final AttachPoint NIC_RX = AttachPoint.required("nic-rx",
            new HookCandidate("nic_rx_fentry", AttachKind.FENTRY, "fentry/eth_type_trans"),
            new HookCandidate("nic_rx_tp_btf", AttachKind.TP_BTF, "tp_btf/netif_rx_entry"),
            new HookCandidate("nic_rx_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/netif_rx_entry"));
    static final AttachPoint NIC_RX_NAPI = AttachPoint.optional("nic-rx-napi",
            new HookCandidate("nic_napi_tp_btf", AttachKind.TP_BTF, "tp_btf/napi_gro_receive_entry"),
            new HookCandidate("nic_napi_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/napi_gro_receive_entry"));
    static final AttachPoint NIC_RX_DIRECT = AttachPoint.optional("nic-rx-direct",
            new HookCandidate("nic_skb_tp_btf", AttachKind.TP_BTF, "tp_btf/netif_receive_skb_entry"),
            new HookCandidate("nic_skb_tracepoint", AttachKind.TRACEPOINT, "tracepoint/net/netif_receive_skb_entry"));

    private volatile AgentClock clock;
    private volatile Map<Integer, String> ifnames = Map.of();
    private volatile Counters counters = new Counters(0, 0, 0, 0);
    private boolean rxControlSet;
    private long nextCountersNs;

    public NicProbeComponent() {
        super("nic", "netlat", PID);
    }

    @Reference
    void bindPublisher(EventPublisher publisher) {
        setPublisher(publisher);
    }

    @Reference
    public void bindClock(AgentClock clock) {
        this.clock = clock;
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
        return "nic";
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return List.of(NIC_TX, NIC_RX, NIC_RX_NAPI, NIC_RX_DIRECT);
    }

    @Override
    protected Settings parseConfig(ConfigReader reader) {
        return new Settings(reader.getLong("sample.one.in", 1, 1, 1L << 30), NicFilter.parse(reader));
    }

    @Override
    protected void configureObject(BpfObject obj, Settings settings) {
        obj.setConstantLong("sample_one_in", settings.sampleOneIn());
        settings.filter().apply(obj);
    }

    @Override
    public synchronized void start() {
        Settings cfg = config();
        ifnames = cfg == null || cfg.filter().netnsInode() == ownNetnsInode() ? readInterfaceNames() : Map.of();
        rxControlSet = false;
        super.start();
    }

    @Override
    protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {
        if (length != NicEventLayout.SIZE) {
            throw new IllegalArgumentException("unknown nic record of " + length + " bytes");
        }
        AgentClock c = clock;
        long injected = c == null ? 0 : c.injectedOffsetNs();
        Map<Integer, String> names = ifnames;
        out.add(NicEventLayout.decode(ring, offset, ts -> ts + injected, ts -> Clocks.wallClockNs(ts) + injected,
                i -> names.getOrDefault(i, "if" + i)));
    }

    /**
     * First tick after attach: lets the napi/direct RX programs record unless eth_type_trans (which
     * every Ethernet frame passes) serves nic-rx. Then refreshes the counters about once a second.
     */
    @Override
    protected void onTick(BpfObject obj, List<Event> out) {
        if (!rxControlSet) {
            boolean ethTypeTrans = hooks().stream().anyMatch(h -> h.attachPoint().equals(NIC_RX.name())
                    && "fentry/eth_type_trans".equals(h.chosen()));
            obj.map("rx_control").update(Bytes.u32(0), Bytes.u32(ethTypeTrans ? 0 : 1));
            rxControlSet = true;
        }
        long now = Clocks.monotonicNs();
        if (now >= nextCountersNs) {
            nextCountersNs = now + 1_000_000_000L;
            counters = readCounters(obj);
        }
    }

    private static Counters readCounters(BpfObject obj) {
        Btf btf = obj.btf();
        byte[] bss = obj.map(".bss").lookup(new byte[4]);
        return new Counters(Bytes.u64At(bss, btf.datasecVar(".bss", "segments_seen").offset()),
                Bytes.u64At(bss, btf.datasecVar(".bss", "segments_sampled").offset()),
                Bytes.u64At(bss, btf.datasecVar(".bss", "headers_nonlinear").offset()),
                Bytes.u64At(bss, btf.datasecVar(".bss", "gso_truncated").offset()));
    }

    /** In-kernel counters as of the last second. */
    public Counters counters() {
        return counters;
    }

    /** The hook serving an attach point, or null. */
    public String hookOf(String attachPoint) {
        return hooks().stream().filter(h -> h.attachPoint().equals(attachPoint)).map(HookReport::chosen).findFirst()
                .orElse(null);
    }

    private static long ownNetnsInode() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** ifindex to name for the devices of the agent's own namespace. */
    private static Map<Integer, String> readInterfaceNames() {
        Map<Integer, String> names = new HashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/sys/class/net"))) {
            for (Path d : dirs) {
                try {
                    names.put(Integer.parseInt(Files.readString(d.resolve("ifindex")).strip()), d.getFileName().toString());
                } catch (IOException | NumberFormatException e) {
                    // a device that went away meanwhile
                }
            }
        } catch (IOException e) {
            // no sysfs: names stay if<N>
        }
        return Map.copyOf(names);
    }
}
