package io.microbpf.core.internal;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.SinkStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sink's bounded queue and delivery thread. {@link #offer} never blocks: when the queue holds
 * {@code maxQueuedEvents} events already, the batch is dropped and counted.
 *
 * <p>Owner: the {@link SinkFanout}; {@link #close()} ends the thread and counts what was still queued
 * as dropped.
 */
final class SinkWorker implements AutoCloseable {
    private static final List<Event> POISON = new ArrayList<>();

    private final EventSink sink;
    private final String name;
    private final long maxQueuedEvents;
    private final LinkedBlockingQueue<List<Event>> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queuedEvents = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final ConcurrentHashMap<String, Boolean> accepts = new ConcurrentHashMap<>();
    private final Thread thread;
    private static final long ACCEPTS_CACHE_NS = 1_000_000_000L;
    private volatile long acceptsCachedAt = System.nanoTime();
    private volatile String lastError;
    private volatile boolean closed;

    SinkWorker(EventSink sink, long maxQueuedEvents) {
        this.sink = sink;
        this.name = safeName(sink);
        this.maxQueuedEvents = maxQueuedEvents;
        this.thread = new Thread(this::run, "microbpf-sink-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    EventSink sink() {
        return sink;
    }

    String name() {
        return name;
    }

    /** Queues the events of {@code batch} this sink accepts; drops them if the queue is full. */
    void offer(List<Event> batch) {
        List<Event> mine = filter(batch);
        if (mine.isEmpty()) {
            return;
        }
        int n = mine.size();
        if (closed || queuedEvents.addAndGet(n) > maxQueuedEvents) {
            if (!closed) {
                queuedEvents.addAndGet(-n);
            }
            dropped.addAndGet(n);
            return;
        }
        queue.add(mine);
    }

    /** The events of {@code batch} the sink accepts (the batch itself when it accepts all). */
    private List<Event> filter(List<Event> batch) {
        // batches hold long runs of one type: ask again only when the type changes (types are constants)
        String type = null;
        boolean ok = false;
        int i = 0;
        for (; i < batch.size(); i++) {
            String t = batch.get(i).type();
            if (!t.equals(type)) {
                type = t;
                ok = accepts(t);
            }
            if (!ok) {
                break;
            }
        }
        if (i == batch.size()) {
            return batch;
        }
        List<Event> mine = new ArrayList<>(batch.subList(0, i));
        for (; i < batch.size(); i++) {
            Event e = batch.get(i);
            String t = e.type();
            if (!t.equals(type)) {
                type = t;
                ok = accepts(t);
            }
            if (ok) {
                mine.add(e);
            }
        }
        return mine;
    }

    private boolean accepts(String type) {
        long now = System.nanoTime();
        if (now - acceptsCachedAt > ACCEPTS_CACHE_NS) {
            accepts.clear(); // a sink's filter may change with its configuration
            acceptsCachedAt = now;
        }
        return accepts.computeIfAbsent(type, t -> {
            try {
                return sink.accepts(t);
            } catch (RuntimeException e) {
                lastError = "accepts(" + t + ") threw " + e;
                return false;
            }
        });
    }

    private void run() {
        while (true) {
            List<Event> batch;
            try {
                batch = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == POISON) {
                return;
            }
            queuedEvents.addAndGet(-batch.size());
            try {
                sink.deliver(batch);
                delivered.addAndGet(batch.size());
            } catch (InterruptedException e) {
                failed.addAndGet(batch.size());
                return;
            } catch (Throwable t) {
                failed.addAndGet(batch.size());
                lastError = t.toString();
            }
        }
    }

    SinkStats stats() {
        return new SinkStats(name, delivered.get(), dropped.get(), failed.get(), Math.max(0, queuedEvents.get()), lastError,
                problem(), counters());
    }

    /** The sink's own counters; when {@code counters()} throws: none, and the exception as the last error. */
    private Map<String, Long> counters() {
        try {
            return sink.counters();
        } catch (RuntimeException e) {
            lastError = "counters() threw " + e;
            return Map.of();
        }
    }

    private String problem() {
        try {
            return sink.problem();
        } catch (RuntimeException e) {
            return "problem() threw " + e;
        }
    }

    /** Stops delivery; whatever is still queued is counted as dropped. Waits up to {@code waitMs}. */
    void close(long waitMs) {
        closed = true;
        List<List<Event>> left = new ArrayList<>();
        queue.drainTo(left);
        for (List<Event> b : left) {
            dropped.addAndGet(b.size());
            queuedEvents.addAndGet(-b.size());
        }
        queue.add(POISON);
        try {
            thread.join(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt(); // a sink stuck in deliver(): let it go
        }
    }

    @Override
    public void close() {
        close(TimeUnit.SECONDS.toMillis(2));
    }

    private static String safeName(EventSink sink) {
        try {
            String n = sink.name();
            return n == null || n.isBlank() ? sink.getClass().getName() : n;
        } catch (RuntimeException e) {
            return sink.getClass().getName();
        }
    }
}
