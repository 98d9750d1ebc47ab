package io.microbpf.sink.file;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file sink as an OSGi service (config PID {@code io.microbpf.sink.file}). Owner of the
 * {@link FileSink} (its open file) and of one timer thread (rotation by age, interval fsync);
 * deactivation stops the timer and closes the file.
 */
@Component(name = FileSinkComponent.PID, service = EventSink.class, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
public class FileSinkComponent implements EventSink {
    public static final String PID = "io.microbpf.sink.file";
    private static final Logger LOG = LoggerFactory.getLogger(FileSinkComponent.class);

    private FileSink sink;
    private ScheduledExecutorService timer;

    static Path defaultDirectory() {
        return Path.of(System.getProperty("karaf.data", "data"), "microbpf", "events");
    }

    /** Parses the configuration; throws one {@link ConfigException} naming every bad key. */
    static FileSink.Settings parse(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(PID, props);
        String dir = r.getString("directory", null);
        Path directory = defaultDirectory();
        if (dir != null) {
            try {
                directory = Path.of(dir);
            } catch (InvalidPathException e) {
                r.error("directory=" + dir + " is not a path (" + e.getReason() + ")");
            }
        }
        String prefix = r.getString("prefix", "events");
        if (!prefix.matches("[A-Za-z0-9._-]+")) {
            r.error("prefix=" + prefix + " may hold only letters, digits, '.', '_' and '-'");
            prefix = "events";
        }
        FileSink.Settings s = new FileSink.Settings(directory, prefix,
                r.getLong("rotate.max.bytes", 100L << 20, 0, Long.MAX_VALUE),
                r.getLong("rotate.interval.ms", 3_600_000, 0, Long.MAX_VALUE),
                r.getInt("max.files", 10, 0, 1_000_000),
                r.getBoolean("gzip", false),
                r.getChoice("fsync", "interval", "never", "rotate", "interval", "batch"),
                r.getLong("fsync.interval.ms", 1000, 10, 3_600_000),
                new LinkedHashSet<>(r.getList("types")));
        r.validate();
        return s;
    }

    @Activate
    void activate(Map<String, Object> props) {
        FileSink.Settings s;
        try {
            s = parse(props);
        } catch (ConfigException e) {
            LOG.error("{} (using the defaults)", e.getMessage());
            s = parse(Map.of());
        }
        sink = new FileSink(s);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "microbpf-sink-file-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(sink::tick, 200, 200, TimeUnit.MILLISECONDS);
        sink.open();
        LOG.info("file sink writing {}", sink.currentFile());
    }

    @Modified
    void modified(Map<String, Object> props) {
        try {
            sink.setSettings(parse(props));
            sink.open();
            LOG.info("file sink writing {}", sink.currentFile());
        } catch (ConfigException e) {
            LOG.error("{} (keeping the previous configuration)", e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sink.close();
    }

    @Override
    public String name() {
        return "file";
    }

    @Override
    public boolean accepts(String eventType) {
        return sink.accepts(eventType);
    }

    @Override
    public void deliver(List<Event> batch) throws Exception {
        sink.deliver(batch);
    }

    @Override
    public String problem() {
        return sink.problem();
    }

    @Override
    public Map<String, Long> counters() {
        return sink.counters();
    }
}
