package io.microbpf.api;

import java.util.List;

/** The core dispatcher, as seen by shell commands and other bundles. */
public interface Dispatcher extends EventPublisher {
    /** One entry per sink currently registered. */
    List<SinkStats> sinkStats();

    /** Total events published by probes since start. */
    long publishedEvents();
}
