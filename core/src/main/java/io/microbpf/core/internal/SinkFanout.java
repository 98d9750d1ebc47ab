package io.microbpf.core.internal;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.SinkStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands every published batch to each sink's {@link SinkWorker}. Publishing costs one non-blocking
 * queue offer per sink, so a slow or failing sink cannot stall a probe or another sink.
 * Plain Java (no OSGi) so it can be tested directly; {@link DispatcherComponent} wires it.
 */
public final class SinkFanout implements Dispatcher, AutoCloseable {
    private final CopyOnWriteArrayList<SinkWorker> workers = new CopyOnWriteArrayList<>();
    private final AtomicLong published = new AtomicLong();
    private volatile long maxQueuedEvents;

    public SinkFanout(long maxQueuedEvents) {
        this.maxQueuedEvents = maxQueuedEvents;
    }

    public void setMaxQueuedEvents(long maxQueuedEvents) {
        this.maxQueuedEvents = maxQueuedEvents;
    }

    public void addSink(EventSink sink) {
        workers.add(new SinkWorker(sink, maxQueuedEvents));
    }

    /** Removes a sink; its queued events are counted as dropped and its stats forgotten. */
    public void removeSink(EventSink sink) {
        for (SinkWorker w : workers) {
            if (w.sink() == sink) {
                workers.remove(w);
                w.close();
            }
        }
    }

    @Override
    public void publish(List<Event> batch) {
        if (batch.isEmpty()) {
            return;
        }
        published.addAndGet(batch.size());
        for (SinkWorker w : workers) {
            w.offer(batch);
        }
    }

    @Override
    public List<SinkStats> sinkStats() {
        List<SinkStats> out = new ArrayList<>();
        for (SinkWorker w : workers) {
            out.add(w.stats());
        }
        out.sort(Comparator.comparing(SinkStats::name));
        return out;
    }

    @Override
    public long publishedEvents() {
        return published.get();
    }

    @Override
    public void close() {
        for (SinkWorker w : workers) {
            w.close();
        }
        workers.clear();
    }
}
