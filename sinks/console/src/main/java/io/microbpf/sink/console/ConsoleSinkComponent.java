package io.microbpf.sink.console;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console sink as an OSGi service (config PID {@code io.microbpf.sink.console}). Owner of the
 * one timer thread that ends each summary interval; deactivation stops it.
 */
@Component(name = ConsoleSinkComponent.PID, service = EventSink.class, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
public class ConsoleSinkComponent implements EventSink {
    public static final String PID = "io.microbpf.sink.console";
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleSinkComponent.class);

    private ConsoleSink sink;
    private ScheduledExecutorService timer;
    private ScheduledFuture<?> ticking;

    /** Parses the configuration; throws one {@link ConfigException} naming every bad key. */
    static ConsoleSink.Settings parse(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(PID, props);
        ConsoleSink.Settings s = new ConsoleSink.Settings(
                r.getChoice("mode", "summary", "summary", "events"),
                r.getLong("interval.ms", 1000, 100, 3_600_000),
                new LinkedHashSet<>(r.getList("types")),
                r.getInt("max.lines.per.interval", 50, 1, 100_000));
        r.validate();
        return s;
    }

    @Activate
    void activate(Map<String, Object> props) {
        ConsoleSink.Settings s;
        try {
            s = parse(props);
        } catch (ConfigException e) {
            LOG.error("{} (using the defaults)", e.getMessage());
            s = parse(Map.of());
        }
        sink = new ConsoleSink(System.out, s);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "microbpf-sink-console-timer");
            t.setDaemon(true);
            return t;
        });
        schedule();
    }

    @Modified
    void modified(Map<String, Object> props) {
        try {
            sink.setSettings(parse(props));
            schedule();
        } catch (ConfigException e) {
            LOG.error("{} (keeping the previous configuration)", e.getMessage());
        }
    }

    private void schedule() {
        if (ticking != null) {
            ticking.cancel(false);
        }
        long ms = sink.settings().intervalMs();
        ticking = timer.scheduleAtFixedRate(() -> sink.tick(System.currentTimeMillis()), ms, ms, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    @Override
    public String name() {
        return "console";
    }

    @Override
    public boolean accepts(String eventType) {
        return sink.accepts(eventType);
    }

    @Override
    public void deliver(List<Event> batch) {
        sink.deliver(batch);
    }
}
