package io.microbpf.test;

import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Stands in for the dispatcher in probe tests: keeps every published event. */
public final class CapturingPublisher implements EventPublisher {
    private final List<Event> events = new ArrayList<>();

    @Override
    public synchronized void publish(List<Event> batch) {
        events.addAll(batch);
        notifyAll();
    }

    public synchronized List<Event> events() {
        return new ArrayList<>(events);
    }

    /** Waits up to {@code timeoutMs} until at least {@code n} events match; returns the matches. */
    public synchronized <T extends Event> List<T> await(Class<T> type, Predicate<T> match, int n, long timeoutMs)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            List<T> found = new ArrayList<>();
            for (Event e : events) {
                if (type.isInstance(e) && match.test(type.cast(e))) {
                    found.add(type.cast(e));
                }
            }
            long left = deadline - System.currentTimeMillis();
            if (found.size() >= n || left <= 0) {
                return found;
            }
            wait(left);
        }
    }
}
