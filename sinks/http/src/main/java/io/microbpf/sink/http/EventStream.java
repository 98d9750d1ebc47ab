package io.microbpf.sink.http;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sink behind {@code /microbpf/api/events}: hands every event to each connected Server-Sent-Events
 * client whose type filter wants it. Each client has its own bounded queue; a client that reads too
 * slowly loses events (counted per client and in total), never the dispatcher or other clients.
 * It accepts an event type only while some client wants it, so with no client it costs nothing.
 */
public final class EventStream implements EventSink {
    /** One connected client; {@code types} empty means every type. */
    public static final class Client {
        final Set<String> types;
        final ArrayBlockingQueue<Event> queue;
        final AtomicLong dropped = new AtomicLong();

        Client(Set<String> types, int capacity) {
            this.types = types;
            this.queue = new ArrayBlockingQueue<>(capacity);
        }

        boolean wants(String type) {
            return types.isEmpty() || types.contains(type);
        }

        /** The next event, or {@code null} after {@code timeoutMs} without one. */
        public Event poll(long timeoutMs) throws InterruptedException {
            return queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
        }

        public long dropped() {
            return dropped.get();
        }
    }

    private final CopyOnWriteArrayList<Client> clients = new CopyOnWriteArrayList<>();
    private final AtomicLong dropped = new AtomicLong();

    @Override
    public String name() {
        return "http";
    }

    @Override
    public boolean accepts(String eventType) {
        for (Client c : clients) {
            if (c.wants(eventType)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void deliver(List<Event> batch) {
        for (Client c : clients) {
            for (Event e : batch) {
                if (c.wants(e.type()) && !c.queue.offer(e)) {
                    c.dropped.incrementAndGet();
                    dropped.incrementAndGet();
                }
            }
        }
    }

    /** Registers a client, or returns {@code null} when {@code maxClients} are connected already. */
    public synchronized Client connect(Set<String> types, int capacity, int maxClients) {
        if (clients.size() >= maxClients) {
            return null;
        }
        Client c = new Client(Set.copyOf(types), capacity);
        clients.add(c);
        return c;
    }

    public void disconnect(Client c) {
        clients.remove(c);
    }

    public int clients() {
        return clients.size();
    }

    /** Events dropped for slow clients since start. */
    public long dropped() {
        return dropped.get();
    }
}
