package io.microbpf.core.internal;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.EventSink;
import io.microbpf.api.SinkStats;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.api.probe.Preconditions;
import java.util.List;
import java.util.Map;
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
 * The sink whiteboard: every {@link EventSink} service registered by any bundle is wired in as it
 * appears and unwired as it leaves. Config PID {@code io.microbpf.core}.
 */
@Component(name = "io.microbpf.core", service = {Dispatcher.class, EventPublisher.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class DispatcherComponent implements Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(DispatcherComponent.class);
    static final long DEFAULT_MAX_QUEUED = 100_000;

    private final SinkFanout fanout = new SinkFanout(DEFAULT_MAX_QUEUED);

    @Activate
    void activate(Map<String, Object> props) {
        configure(props);
        Preconditions.Result pre = Preconditions.checkSystem();
        pre.fatal().forEach(p -> LOG.error("MicroBPF cannot load probes: {}", p));
        pre.warnings().forEach(p -> LOG.warn("MicroBPF: {}", p));
    }

    @Modified
    void configure(Map<String, Object> props) {
        ConfigReader r = new ConfigReader("io.microbpf.core", props);
        long max = r.getLong("sink.queue.max.events", DEFAULT_MAX_QUEUED, 1, 100_000_000);
        try {
            r.validate();
            fanout.setMaxQueuedEvents(max);
        } catch (ConfigException e) {
            LOG.error("{} (keeping the previous configuration)", e.getMessage());
        }
    }

    @Deactivate
    void deactivate() {
        fanout.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addSink(EventSink sink) {
        fanout.addSink(sink);
        LOG.info("sink {} wired", sink.name());
    }

    void removeSink(EventSink sink) {
        fanout.removeSink(sink);
        LOG.info("sink {} unwired", sink.name());
    }

    @Override
    public void publish(List<Event> batch) {
        fanout.publish(batch);
    }

    @Override
    public List<SinkStats> sinkStats() {
        return fanout.sinkStats();
    }

    @Override
    public long publishedEvents() {
        return fanout.publishedEvents();
    }
}
