package io.microbpf.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counters of one sink as the dispatcher sees it.
 *
 * @param name sink name
 * @param delivered events handed to the sink's {@code deliver} that returned normally
 * @param dropped events discarded because the sink's queue was full or the sink departed
 * @param failed events in batches whose {@code deliver} threw
 * @param queuedEvents events waiting in the sink's queue now
 * @param lastError the last exception message, or {@code null}
 * @param problem what the sink itself reports as wrong now ({@link EventSink#problem()}), or {@code null}
 * @param counters the sink's own counters ({@link EventSink#counters()}), in its order; never {@code null}
 */
public record SinkStats(String name, long delivered, long dropped, long failed, long queuedEvents, String lastError,
        String problem, Map<String, Long> counters) {

    public SinkStats {
        counters = counters == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(counters));
    }

    /** Stats of a sink without counters of its own. */
    public SinkStats(String name, long delivered, long dropped, long failed, long queuedEvents, String lastError,
            String problem) {
        this(name, delivered, dropped, failed, queuedEvents, lastError, problem, Map.of());
    }

    /** Stats of a sink that reports no problem. */
    public SinkStats(String name, long delivered, long dropped, long failed, long queuedEvents, String lastError) {
        this(name, delivered, dropped, failed, queuedEvents, lastError, null);
    }

    /** {@code failed} when the sink reports a problem, else {@code ok}. */
    public String state() {
        return problem == null ? "ok" : "failed";
    }
}
