package io.microbpf.sink.http;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeState;
import io.microbpf.api.SinkStats;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * {@code /microbpf/metrics}: the Prometheus text format, produced by the Prometheus Java client
 * (snapshots of its data model written by its {@link PrometheusTextFormatWriter}; nothing here formats
 * text). Per-flow series carry the labels {@code local}, {@code remote} and {@code netns}; only the
 * {@code maxFlows} largest flows (by bytes moved) are exported, so the label cardinality is bounded,
 * and {@code microbpf_flows_not_exported} says how many were left out. Latency summaries become
 * Prometheus histograms ({@code microbpf_<family>_latency_seconds}) from their power-of-two buckets.
 */
public final class Metrics {
    private static final double NS = 1e-9;
    private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

    private Metrics() {}

    public static String contentType() {
        return WRITER.getContentType();
    }

    public static void write(OutputStream out, Sources sources, int maxFlows) throws IOException {
        WRITER.write(out, snapshots(sources, maxFlows));
    }

    record FlowGauge(String name, String help, Unit unit, ToDoubleFunction<TcpFlowEvent> value) {}

    private static final List<FlowGauge> FLOW_GAUGES = List.of(
            new FlowGauge("microbpf_flow_cwnd_packets", "CWND: congestion window (tcpi_snd_cwnd)", null, TcpFlowEvent::cwndPackets),
            new FlowGauge("microbpf_flow_flight_size_packets", "FlightSize: packets in flight", null, TcpFlowEvent::flightSizePackets),
            new FlowGauge("microbpf_flow_peer_window_bytes", "RWND: window the peer advertised", Unit.BYTES, TcpFlowEvent::peerWindowBytes),
            new FlowGauge("microbpf_flow_receive_window_bytes", "our advertised receive window", Unit.BYTES, TcpFlowEvent::receiveWindowBytes),
            new FlowGauge("microbpf_flow_mss_bytes", "MSS (tcpi_snd_mss)", Unit.BYTES, TcpFlowEvent::mssBytes),
            new FlowGauge("microbpf_flow_send_queue_bytes", "CurAppWQueue: written, not yet acknowledged", Unit.BYTES, TcpFlowEvent::sendQueueBytes),
            new FlowGauge("microbpf_flow_max_send_queue_bytes", "MaxAppWQueue since the previous record", Unit.BYTES, TcpFlowEvent::maxSendQueueBytes),
            new FlowGauge("microbpf_flow_srtt_seconds", "smoothed RTT", Unit.SECONDS, f -> f.srttUs() * 1e-6),
            new FlowGauge("microbpf_flow_duration_seconds", "Duration: ESTABLISHED until the snapshot", Unit.SECONDS, f -> f.durationNs() * NS));

    private static final List<FlowGauge> FLOW_COUNTERS = List.of(
            new FlowGauge("microbpf_flow_sent_bytes", "BSent: payload bytes sent and acknowledged", Unit.BYTES, TcpFlowEvent::bytesSent),
            new FlowGauge("microbpf_flow_received_bytes", "BReceived: payload bytes received in order", Unit.BYTES, TcpFlowEvent::bytesReceived),
            new FlowGauge("microbpf_flow_retransmitted_packets", "RePackets: retransmitted segments", null, TcpFlowEvent::retransmittedPackets),
            new FlowGauge("microbpf_flow_fast_retransmits", "fastRetrans: retransmits outside RTO recovery", null, TcpFlowEvent::fastRetransmits),
            new FlowGauge("microbpf_flow_timeouts", "Timeout: RTO expiries", null, TcpFlowEvent::timeouts),
            new FlowGauge("microbpf_flow_rtt_samples", "SampleRTT: RTT samples taken", null, TcpFlowEvent::rttSamples),
            new FlowGauge("microbpf_flow_rtt_sum_seconds", "SumRTT: sum of the RTT samples", Unit.SECONDS, f -> f.rttSumUs() * 1e-6),
            new FlowGauge("microbpf_flow_read_bytes", "ReadByte: bytes returned by read calls", Unit.BYTES, TcpFlowEvent::readBytes),
            new FlowGauge("microbpf_flow_written_bytes", "WriteByte: bytes accepted by write calls", Unit.BYTES, TcpFlowEvent::writeBytes));

    static MetricSnapshots snapshots(Sources sources, int maxFlows) {
        List<MetricSnapshot> out = new ArrayList<>();
        probeMetrics(sources, out);
        sinkMetrics(sources, out);
        flowMetrics(sources, maxFlows, out);
        latencyMetrics(sources, out);
        return new MetricSnapshots(out);
    }

    private static void probeMetrics(Sources sources, List<MetricSnapshot> out) {
        List<Probe> probes = sources.probes() == null ? List.of() : sources.probes().probes();
        CounterSnapshot.Builder events = CounterSnapshot.builder().name("microbpf_probe_events").help("events read from the kernel and published");
        CounterSnapshot.Builder lost = CounterSnapshot.builder().name("microbpf_probe_lost_events").help("events the kernel could not hand over (ring buffer full)");
        GaugeSnapshot.Builder running = GaugeSnapshot.builder().name("microbpf_probe_running").help("1 while the probe is attached");
        for (Probe p : probes) {
            Labels l = Labels.of("probe", p.id(), "family", p.family());
            events.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(p.events()).build());
            lost.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(p.lost()).build());
            running.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(p.state() == ProbeState.RUNNING ? 1 : 0).build());
        }
        out.add(events.build());
        out.add(lost.build());
        out.add(running.build());
    }

    private static void sinkMetrics(Sources sources, List<MetricSnapshot> out) {
        List<SinkStats> sinks = sources.dispatcher() == null ? List.of() : sources.dispatcher().sinkStats();
        CounterSnapshot.Builder delivered = CounterSnapshot.builder().name("microbpf_sink_delivered_events").help("events the sink took");
        CounterSnapshot.Builder dropped = CounterSnapshot.builder().name("microbpf_sink_dropped_events").help("events dropped because the sink's queue was full");
        CounterSnapshot.Builder failed = CounterSnapshot.builder().name("microbpf_sink_failed_events").help("events in batches the sink failed to take");
        GaugeSnapshot.Builder queued = GaugeSnapshot.builder().name("microbpf_sink_queued_events").help("events waiting in the sink's queue");
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("microbpf_sink_up").help("0 while the sink reports a problem, else 1");
        for (SinkStats s : sinks) {
            Labels l = Labels.of("sink", s.name());
            delivered.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(s.delivered()).build());
            dropped.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(s.dropped()).build());
            failed.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(s.failed()).build());
            queued.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(s.queuedEvents()).build());
            up.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(s.problem() == null ? 1 : 0).build());
        }
        out.add(delivered.build());
        out.add(dropped.build());
        out.add(failed.build());
        out.add(queued.build());
        out.add(up.build());
        if (sources.dispatcher() != null) {
            out.add(CounterSnapshot.builder().name("microbpf_published_events").help("events published by all probes")
                    .dataPoint(CounterDataPointSnapshot.builder().value(sources.dispatcher().publishedEvents()).build()).build());
        }
    }

    private static void flowMetrics(Sources sources, int maxFlows, List<MetricSnapshot> out) {
        long evicted = 0;
        long storageFailed = 0;
        int total = 0;
        for (FlowTable t : sources.flowTables()) {
            evicted += t.evictedFlows();
            storageFailed += t.socketStorageFailedFlows();
            total += t.flows().size();
        }
        List<TcpFlowEvent> flows = Api.flows(sources, null, maxFlows);
        out.add(GaugeSnapshot.builder().name("microbpf_flows").help("live flows the ack probe tracks")
                .dataPoint(GaugeDataPointSnapshot.builder().value(total).build()).build());
        out.add(GaugeSnapshot.builder().name("microbpf_flows_not_exported")
                .help("live flows left out of the per-flow series (metrics.max.flows bounds the label cardinality)")
                .dataPoint(GaugeDataPointSnapshot.builder().value(total - flows.size()).build()).build());
        out.add(CounterSnapshot.builder().name("microbpf_flows_evicted").help("flows evicted from the in-kernel LRU map")
                .dataPoint(CounterDataPointSnapshot.builder().value(evicted).build()).build());
        out.add(CounterSnapshot.builder().name("microbpf_flows_socket_storage_failed")
                .help("flows whose socket-local storage the kernel did not create (their ACK, read, write and RTT counts stay 0)")
                .dataPoint(CounterDataPointSnapshot.builder().value(storageFailed).build()).build());
        List<Labels> labels = new ArrayList<>();
        List<TcpFlowEvent> unique = new ArrayList<>();
        Set<Labels> seen = new HashSet<>();
        for (TcpFlowEvent f : flows) {
            Labels l = Labels.of("local", endpoint(f.localAddress(), f.localPort()), "remote",
                    endpoint(f.remoteAddress(), f.remotePort()), "netns", Long.toString(f.netnsInode()));
            if (seen.add(l)) { // two sockets with one 4-tuple in one netns: a closing one and its successor
                labels.add(l);
                unique.add(f);
            }
        }
        for (FlowGauge g : FLOW_GAUGES) {
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(g.name()).help(g.help());
            if (g.unit() != null) {
                b.unit(g.unit());
            }
            for (int i = 0; i < unique.size(); i++) {
                b.dataPoint(GaugeDataPointSnapshot.builder().labels(labels.get(i)).value(g.value().applyAsDouble(unique.get(i))).build());
            }
            out.add(b.build());
        }
        for (FlowGauge g : FLOW_COUNTERS) {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name(g.name()).help(g.help());
            if (g.unit() != null) {
                b.unit(g.unit());
            }
            for (int i = 0; i < unique.size(); i++) {
                b.dataPoint(CounterDataPointSnapshot.builder().labels(labels.get(i)).value(g.value().applyAsDouble(unique.get(i))).build());
            }
            out.add(b.build());
        }
    }

    private static void latencyMetrics(Sources sources, List<MetricSnapshot> out) {
        Map<String, HistogramSnapshot.Builder> byFamily = new LinkedHashMap<>();
        Map<String, Set<Labels>> seen = new LinkedHashMap<>();
        for (LatencyReport r : sources.latencyReports()) {
            String family = sanitize(r.family());
            HistogramSnapshot.Builder b = byFamily.computeIfAbsent(family, f -> HistogramSnapshot.builder()
                    .name("microbpf_" + f + "_latency_seconds").unit(Unit.SECONDS)
                    .help(r.family() + " latency (power-of-two buckets from 1.024 µs)"));
            for (LatencySummary s : r.summaries()) {
                Labels l = labels(s.labels());
                if (!seen.computeIfAbsent(family, f -> new HashSet<>()).add(l)) {
                    continue;
                }
                b.dataPoint(HistogramDataPointSnapshot.builder().labels(l).sum(s.sumNs() * NS)
                        .classicHistogramBuckets(buckets(s)).build());
            }
        }
        byFamily.values().forEach(b -> out.add(b.build()));
    }

    /** The summary's cumulative power-of-two counts as the client's per-bucket counts, with +Inf. */
    static ClassicHistogramBuckets buckets(LatencySummary s) {
        List<LatencySummary.Bucket> bs = s.buckets();
        double[] bounds = new double[bs.size() + 1];
        long[] counts = new long[bs.size() + 1];
        long previous = 0;
        for (int i = 0; i < bs.size(); i++) {
            bounds[i] = bs.get(i).upperBoundNs() * NS;
            counts[i] = bs.get(i).cumulativeCount() - previous;
            previous = bs.get(i).cumulativeCount();
        }
        bounds[bs.size()] = Double.POSITIVE_INFINITY;
        counts[bs.size()] = s.count() - previous;
        return ClassicHistogramBuckets.of(bounds, counts);
    }

    private static Labels labels(Map<String, String> map) {
        Labels.Builder b = Labels.builder();
        map.forEach((k, v) -> b.label(sanitize(k), v));
        return b.build();
    }

    /** A Prometheus metric or label name part: [a-zA-Z0-9_] only. */
    static String sanitize(String s) {
        String r = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return r.isEmpty() || Character.isDigit(r.charAt(0)) ? "_" + r : r;
    }

    static String endpoint(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
