package io.microbpf.probe.app.internal;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.probe.app.AppLatency;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * HdrHistogram distributions of the exchange phases, per (role, service port, phase) and per
 * (role, flow, phase). Per-flow series are bounded: beyond {@code maxFlows} the least recently
 * updated flow is dropped (counted). Thread-safe: the probe's reader thread records, the shell and
 * sinks summarise.
 */
final class ExchangeHistograms {
    static final String FAMILY = "app";

    /** Series identity; {@code where} is the port number or the flow text. */
    private record Key(String role, String where, int phase) {}

    private static final Comparator<Key> ORDER = Comparator.comparing(Key::role).reversed() // server first
            .thenComparing(k -> k.where().length()).thenComparing(Key::where).thenComparingInt(Key::phase);

    private final Map<Key, Histogram> byPort = new HashMap<>();
    private final LinkedHashMap<String, Map<Key, Histogram>> byFlow = new LinkedHashMap<>(64, 0.75f, true);
    private volatile int maxFlows;
    private long flowsDropped;

    ExchangeHistograms(int maxFlows) {
        this.maxFlows = maxFlows;
    }

    void setMaxFlows(int maxFlows) {
        this.maxFlows = maxFlows;
    }

    static String flow(AppExchangeEvent e) {
        return endpoint(e.localAddress(), e.localPort()) + ">" + endpoint(e.remoteAddress(), e.remotePort());
    }

    private static String endpoint(String address, int port) {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }

    synchronized void record(AppExchangeEvent e) {
        long[] values = {e.queueNs(), e.thinkNs(), e.sendNs(), e.requestNs()};
        String port = Integer.toString(e.servicePort());
        String flow = maxFlows > 0 ? flow(e) : null;
        Map<Key, Histogram> perFlow = null;
        for (int phase = 0; phase < values.length; phase++) {
            if (values[phase] < 0) {
                continue;
            }
            byPort.computeIfAbsent(new Key(e.role(), port, phase), k -> new Histogram(3)).recordValue(values[phase]);
            if (maxFlows > 0) {
                if (perFlow == null) {
                    perFlow = byFlow.computeIfAbsent(flow, f -> new HashMap<>());
                }
                perFlow.computeIfAbsent(new Key(e.role(), flow, phase), k -> new Histogram(2)).recordValue(values[phase]);
            }
        }
        while (byFlow.size() > maxFlows) {
            byFlow.remove(byFlow.keySet().iterator().next());
            flowsDropped++;
        }
    }

    private static LatencySummary summary(Key k, Histogram h, String whereLabel) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("role", k.role());
        labels.put(whereLabel, k.where());
        labels.put("phase", AppLatency.PHASES.get(k.phase()));
        return LatencySummary.of(FAMILY, labels, h);
    }

    synchronized List<LatencySummary> portSummaries() {
        List<LatencySummary> out = new ArrayList<>();
        Map<Key, Histogram> sorted = new TreeMap<>(ORDER);
        sorted.putAll(byPort);
        sorted.forEach((k, h) -> out.add(summary(k, h, "port")));
        return out;
    }

    synchronized List<LatencySummary> flowSummaries() {
        TreeMap<Key, Histogram> all = new TreeMap<>(ORDER);
        byFlow.values().forEach(all::putAll);
        List<LatencySummary> out = new ArrayList<>();
        all.forEach((k, h) -> out.add(summary(k, h, "flow")));
        return out;
    }

    synchronized long flowsDropped() {
        return flowsDropped;
    }

    synchronized void reset() {
        byPort.clear();
        byFlow.clear();
    }
}
