package io.microbpf.collector.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Clocks;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.clocksync.ClockSync;
import io.microbpf.collector.CollectorStats;
import io.microbpf.collector.NetLatencyCollector;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The measurement node: receives agents' pushes on its HTTP endpoint, matches NIC TX and RX records
 * across hosts, corrects them with clock sync, and reports one-way latency per host pair and per
 * flow as the {@code netlat} {@link LatencyReport}. Config PID {@code io.microbpf.collector}.
 *
 * <p>Owner of the HTTP endpoint (server socket and threads) and of the matcher's memory;
 * {@link #deactivate()} closes the endpoint.
 */
@Component(name = CollectorComponent.PID, service = {NetLatencyCollector.class, LatencyReport.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class CollectorComponent implements NetLatencyCollector, LatencyReport {
    public static final String PID = "io.microbpf.collector";
    public static final String FAMILY = "netlat";
    private static final Logger LOG = LoggerFactory.getLogger(CollectorComponent.class);

    /** Parsed configuration. */
    public record Settings(boolean enabled, String listenAddress, int listenPort, String path, long windowMs,
            int maxPending, int maxFlows, long maxBodyBytes) {}

    private final ObjectMapper json = new ObjectMapper();
    private volatile ClockSync clock;
    private volatile SegmentMatcher matcher = new SegmentMatcher(10_000_000_000L, 1, 1);
    private volatile String endpoint;
    private volatile String problem;
    private Settings settings;
    private PushEndpoint http;

    @Reference
    public void bindClock(ClockSync clock) {
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
    public synchronized void deactivate() {
        closeHttp();
    }

    static Settings parse(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(PID, props);
        String path = r.getString("path", "/microbpf/push");
        if (!path.startsWith("/")) {
            r.error("path=" + path + " must start with /");
        }
        Settings s = new Settings(r.getBoolean("enabled", true), r.getString("listen.address", "127.0.0.1"),
                r.getInt("listen.port", 7788, 0, 65535), path, r.getLong("window.ms", 10_000, 10, 600_000),
                r.getInt("max.pending", 1_000_000, 1000, 100_000_000), r.getInt("max.flows", 1024, 0, 1_000_000),
                r.getLong("max.body.bytes", 64L << 20, 1024, 1L << 30));
        r.validate();
        return s;
    }

    /** Applies a configuration; an invalid one is rejected whole and the previous one kept. */
    public synchronized void applyConfig(Map<String, ?> props) {
        Settings s;
        try {
            s = parse(props);
        } catch (ConfigException e) {
            problem = e.getMessage() + (settings == null ? "" : " (keeping the previous configuration)");
            LOG.error("{}", problem);
            return;
        }
        if (s.equals(settings) && http != null) {
            return;
        }
        closeHttp();
        settings = s;
        problem = null;
        if (!s.enabled()) {
            problem = "disabled in configuration (enabled=false)";
            return;
        }
        SegmentMatcher m = new SegmentMatcher(s.windowMs() * 1_000_000L, s.maxPending(), s.maxFlows());
        matcher = m;
        try {
            http = new PushEndpoint(s.listenAddress(), s.listenPort(), s.path(), s.maxBodyBytes(),
                    new PushIngest(m, clock, Clocks::monotonicNs), this::netlatJson);
            endpoint = "http://" + s.listenAddress() + ":" + http.port() + s.path();
            LOG.info("collector: receiving pushes on {} (window {} ms)", endpoint, s.windowMs());
        } catch (IOException | RuntimeException e) {
            problem = "cannot listen on " + s.listenAddress() + ":" + s.listenPort() + ": " + e.getMessage();
            LOG.error("collector: {}", problem);
        }
    }

    private void closeHttp() {
        if (http != null) {
            http.close();
            http = null;
            endpoint = null;
        }
    }

    /** Why the collector is not receiving, or null. */
    public String problem() {
        return problem;
    }

    private byte[] netlatJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stats", stats());
        m.put("summaries", summaries(true));
        try {
            return json.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ages out records that waited longer than the window (also done on every push). */
    public void age() {
        matcher.age(Clocks.monotonicNs());
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public List<LatencySummary> summaries() {
        return summaries(true);
    }

    @Override
    public List<LatencySummary> summaries(boolean flows) {
        return matcher.summaries(FAMILY, flows);
    }

    @Override
    public CollectorStats stats() {
        age();
        return matcher.stats();
    }

    @Override
    public void reset() {
        matcher.reset();
    }

    @Override
    public String endpoint() {
        return endpoint;
    }
}
