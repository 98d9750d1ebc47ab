package io.microbpf.api;

import java.util.List;
import java.util.Map;

/**
 * Whiteboard service: register an implementation in the OSGi service registry and the core
 * dispatcher delivers batches of events to it.
 *
 * <p>Each sink gets its own bounded queue and its own delivery thread. A sink that is slow, that
 * throws, or that goes away loses only its own events (counted as dropped or failed); it never
 * stalls the probes or the other sinks. {@link #deliver} is called from one thread at a time.
 */
public interface EventSink {
    /** A short unique name shown by {@code microbpf:sink-list}. */
    String name();

    /** Whether this sink wants events of the given {@link Event#type()}; the default takes all. */
    default boolean accepts(String eventType) {
        return true;
    }

    /** Receives a batch; the list is not modified afterwards and may be kept. */
    void deliver(List<Event> batch) throws Exception;

    /**
     * One clear line saying why this sink cannot do its work right now (a directory it cannot write,
     * a full disk, a remote that stays down), or {@code null} while it works. {@code sink-list} shows
     * a sink with a problem as {@code failed}. The default: never failed.
     */
    default String problem() {
        return null;
    }

    /**
     * The sink's own counters, name to value in the order to show them (e.g. the file sink's
     * {@code longLines}), which {@code sink-list} prints after the dispatcher's. Names are camelCase and
     * carry their unit where they have one ({@code paddingBytes}). Called from other threads than
     * {@link #deliver}'s, so it must not wait for a delivery. The default: none.
     */
    default Map<String, Long> counters() {
        return Map.of();
    }
}
