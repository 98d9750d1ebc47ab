package io.microbpf.sink.http;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.probe.ack.FlowTable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Sources a test fills in: what OSGi would bind in Karaf. */
final class TestSources implements Sources {
    volatile ProbeRegistry probes;
    volatile Dispatcher dispatcher;
    final List<FlowTable> flowTables = new CopyOnWriteArrayList<>();
    final List<LatencyReport> latencyReports = new CopyOnWriteArrayList<>();

    public ProbeRegistry probes() { return probes; }
    public Dispatcher dispatcher() { return dispatcher; }
    public List<FlowTable> flowTables() { return flowTables; }
    public List<LatencyReport> latencyReports() { return latencyReports; }
}
