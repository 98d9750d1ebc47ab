package io.microbpf.sink.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Dispatcher;
import io.microbpf.api.EventSink;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.probe.ack.FlowTable;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.servlet.Servlet;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP sink (config PID {@code io.microbpf.sink.http}). Registers, and owns the registrations of:
 * the servlet at {@code /microbpf} with Karaf's HTTP whiteboard; the {@code http} event sink that feeds
 * the live event stream; and, when {@code push.url} is set, the {@code http-push} sink (with its sender
 * thread). Reads the probe registry, the dispatcher, the ack probe's flow table and every latency
 * report as optional dynamic references, so it serves whatever is installed.
 */
@Component(name = HttpSinkComponent.PID, service = {}, configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class HttpSinkComponent implements Sources {
    public static final String PID = "io.microbpf.sink.http";
    private static final Logger LOG = LoggerFactory.getLogger(HttpSinkComponent.class);

    /** Parsed configuration: the routes' settings and the push settings ({@code null} when push is off). */
    record Config(Routes.Settings routes, PushSink.Settings push) {}

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ProbeRegistry probeRegistry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Dispatcher dispatcherService;

    private final List<FlowTable> flowTables = new CopyOnWriteArrayList<>();
    private final List<LatencyReport> latencyReports = new CopyOnWriteArrayList<>();

    private final ObjectMapper json = new ObjectMapper();
    private final EventStream stream = new EventStream();
    private BundleContext context;
    private Routes routes;
    private ServiceRegistration<Servlet> servletRegistration;
    private ServiceRegistration<EventSink> streamRegistration;
    private ServiceRegistration<EventSink> pushRegistration;
    private PushSink push;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addFlowTable(FlowTable t) {
        flowTables.add(t);
    }

    void removeFlowTable(FlowTable t) {
        flowTables.remove(t);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addLatencyReport(LatencyReport r) {
        latencyReports.add(r);
    }

    void removeLatencyReport(LatencyReport r) {
        latencyReports.remove(r);
    }

    static String defaultAgent() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "microbpf";
        }
    }

    /** Parses the configuration; throws one {@link ConfigException} naming every bad key. */
    static Config parse(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(PID, props);
        int maxFlows = r.getInt("metrics.max.flows", 100, 0, 1_000_000);
        int apiMaxFlows = r.getInt("api.max.flows", 1000, 1, 1_000_000);
        int clients = r.getInt("stream.max.clients", 16, 1, 1000);
        int queue = r.getInt("stream.queue.events", 10_000, 1, 10_000_000);
        long heartbeat = r.getLong("stream.heartbeat.ms", 15_000, 100, 3_600_000);
        String realm = r.getString("auth.realm", null);
        String role = r.getString("auth.role", null);
        String url = r.getString("push.url", null);
        String agent = r.getString("push.agent", defaultAgent());
        int buffer = r.getInt("push.buffer.max.events", 100_000, 1, 100_000_000);
        int batch = r.getInt("push.batch.max.events", 1000, 1, 1_000_000);
        long retryInitial = r.getLong("push.retry.initial.ms", 100, 1, 3_600_000);
        long retryMax = r.getLong("push.retry.max.ms", 10_000, 1, 3_600_000);
        long timeout = r.getLong("push.timeout.ms", 5000, 10, 3_600_000);
        List<String> types = r.getList("push.types");
        URI uri = null;
        if (url != null) {
            try {
                uri = new URI(url);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    r.error("push.url=" + url + " is not an http:// or https:// URL with a host");
                }
            } catch (URISyntaxException e) {
                r.error("push.url=" + url + " is not a URL (" + e.getReason() + ")");
            }
        }
        if (retryMax < retryInitial) {
            r.error("push.retry.max.ms=" + retryMax + " is below push.retry.initial.ms=" + retryInitial);
        }
        r.validate();
        Routes.Settings routes = new Routes.Settings(maxFlows, apiMaxFlows, clients, queue, heartbeat,
                realm == null ? null : new JaasAuthenticator(realm, role));
        PushSink.Settings push = uri == null ? null
                : new PushSink.Settings(uri, agent, buffer, batch, retryInitial, retryMax, timeout, new LinkedHashSet<>(types));
        return new Config(routes, push);
    }

    @Activate
    void activate(BundleContext context, Map<String, Object> props) {
        this.context = context;
        Config c;
        try {
            c = parse(props);
        } catch (ConfigException e) {
            LOG.error("{} (using the defaults)", e.getMessage());
            c = parse(Map.of());
        }
        routes = new Routes(json, this, stream, c.routes());
        Hashtable<String, Object> servletProps = new Hashtable<>();
        servletProps.put("osgi.http.whiteboard.servlet.pattern", new String[] {"/microbpf", "/microbpf/*"});
        servletProps.put("osgi.http.whiteboard.servlet.name", "microbpf");
        servletRegistration = context.registerService(Servlet.class, new MicrobpfServlet(routes), servletProps);
        streamRegistration = context.registerService(EventSink.class, stream, null);
        applyPush(c.push());
        LOG.info("http sink: /microbpf/ registered with the HTTP whiteboard{}", c.push() == null ? "" : "; pushing to " + c.push().url());
    }

    @Modified
    void modified(Map<String, Object> props) {
        try {
            Config c = parse(props);
            routes.setSettings(c.routes());
            applyPush(c.push());
        } catch (ConfigException e) {
            LOG.error("{} (keeping the previous configuration)", e.getMessage());
        }
    }

    private synchronized void applyPush(PushSink.Settings s) {
        if (push != null && s != null && push.settings().equals(s)) {
            return;
        }
        stopPush();
        if (s != null) {
            push = new PushSink(s, json);
            pushRegistration = context.registerService(EventSink.class, push, null);
        }
    }

    private synchronized void stopPush() {
        if (pushRegistration != null) {
            pushRegistration.unregister();
            pushRegistration = null;
        }
        if (push != null) {
            push.close();
            push = null;
        }
    }

    @Deactivate
    void deactivate() {
        stopPush();
        unregister(streamRegistration);
        unregister(servletRegistration);
    }

    private static void unregister(ServiceRegistration<?> r) {
        try {
            r.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
    }

    @Override
    public ProbeRegistry probes() {
        return probeRegistry;
    }

    @Override
    public Dispatcher dispatcher() {
        return dispatcherService;
    }

    @Override
    public List<FlowTable> flowTables() {
        return flowTables;
    }

    @Override
    public List<LatencyReport> latencyReports() {
        return latencyReports;
    }
}
