package io.microbpf.api;

import java.util.List;

/** Service of the core dispatcher: probes hand it batches; it never blocks the caller. */
public interface EventPublisher {
    /** Offers a batch to every sink that accepts its types. Never blocks; full sink queues drop. */
    void publish(List<Event> batch);
}
