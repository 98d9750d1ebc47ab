package io.microbpf.example.sink;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.probe.ack.TcpConnectionEvent;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs every TCP connection that lived longer than one second. Install the bundle: it is wired at once. */
@Component(service = EventSink.class)
public class SlowConnectionSink implements EventSink {
    private static final Logger LOG = LoggerFactory.getLogger(SlowConnectionSink.class);

    @Override
    public String name() {
        return "example-slow-connections";
    }

    @Override
    public boolean accepts(String eventType) {
        return eventType.equals(TcpConnectionEvent.TYPE); // the dispatcher filters for us
    }

    @Override
    public void deliver(List<Event> batch) {
        for (Event e : batch) {
            if (e instanceof TcpConnectionEvent c && !c.isOpen() && c.durationNs() > 1_000_000_000L) {
                LOG.info("slow connection: {}", c.summary());
            }
        }
    }
}
