package io.microbpf.probe.ack.internal;

import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.Probe;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.probe.BpfProbe;
import io.microbpf.api.probe.ConfigReader;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * The ack probe: TCP connection records from the kernel's TCP state changes. Config PID
 * {@code io.microbpf.probe.ack}.
 */
@Component(name = AckProbeComponent.PID, service = Probe.class, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
public class AckProbeComponent extends BpfProbe<AckProbeComponent.Settings> {
    public static final String PID = "io.microbpf.probe.ack";

    /** @param maxTrackedConnections bound of the in-kernel map of open connections (LRU beyond it) */
    public record Settings(int maxTrackedConnections) {}

    static final AttachPoint STATE_CHANGE = AttachPoint.required("tcp-state-change",
            new HookCandidate("conn_fentry", AttachKind.FENTRY, "fentry/tcp_set_state"),
            new HookCandidate("conn_tp_btf", AttachKind.TP_BTF, "tp_btf/inet_sock_set_state"),
            new HookCandidate("conn_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/inet_sock_set_state"));

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
        stop();
    }

    @Override
    protected String objectName() {
        return "ack";
    }

    @Override
    protected List<AttachPoint> attachPoints() {
        return List.of(STATE_CHANGE);
    }

    @Override
    protected Settings parseConfig(ConfigReader reader) {
        return new Settings(reader.getInt("max.tracked.connections", 65536, 1024, 1 << 22));
    }

    @Override
    protected void configureObject(BpfObject obj, Settings settings) {
        obj.map("conns").setMaxEntries(settings.maxTrackedConnections());
    }

    @Override
    protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {
        if (length < ConnEventLayout.SIZE) {
            throw new IllegalArgumentException("short conn_event: " + length + " bytes");
        }
        out.add(ConnEventLayout.decode(ring, offset));
    }
}
