package io.microbpf.sink.http;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.probe.ack.FlowTable;
import java.util.List;

/**
 * What the HTTP endpoints read, each a live view of OSGi services (or of test fakes). Any may be
 * empty: the flow table exists only while the ack probe is installed, latency reports only while
 * their probes are.
 */
public interface Sources {
    /** The core's probe registry, or {@code null} before it is bound. */
    ProbeRegistry probes();

    /** The core's dispatcher, or {@code null} before it is bound. */
    Dispatcher dispatcher();

    /** Flow tables (the ack probe's), possibly none. */
    List<FlowTable> flowTables();

    /** Every registered latency report (families {@code layer}, {@code app}, {@code netlat}, ...). */
    List<LatencyReport> latencyReports();
}
