package io.microbpf.probe.layer;

import io.microbpf.api.Event;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.test.CapturingPublisher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Helpers shared by the rx and tx kernel tests. */
public final class LayerTestSupport {
    private LayerTestSupport() {}

    /** The per-flow summary of {@code layer} for the flow with this label, if any. */
    public static Optional<LatencySummary> flowSeries(LatencyReport r, String layer, String flowLabel) {
        return r.summaries().stream().filter(s -> layer.equals(s.labels().get("layer"))
                && flowLabel.equals(s.labels().get("flow"))).findFirst();
    }

    /** The label the probes give a flow (addresses in Java's canonical text form). */
    public static String label(String src, int sport, String dst, int dport) {
        try {
            String s = java.net.InetAddress.getByName(src).getHostAddress();
            String d = java.net.InetAddress.getByName(dst).getHostAddress();
            return new FlowKeyLayout.Flow(s.indexOf(':') >= 0 ? 6 : 4, s, sport, d, dport).label();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The published per-layer events of one flow direction, grouped by segment (seq): layer -> event. */
    public static Map<Long, Map<String, LayerLatencyEvent>> segments(CapturingPublisher p, String direction,
            int sport, int dport) {
        Map<Long, Map<String, LayerLatencyEvent>> bySeq = new LinkedHashMap<>();
        for (Event e : p.events()) {
            if (e instanceof LayerLatencyEvent l && l.direction().equals(direction) && l.srcPort() == sport
                    && l.dstPort() == dport) {
                bySeq.computeIfAbsent(l.seq(), k -> new LinkedHashMap<>()).put(l.layer(), l);
            }
        }
        return bySeq;
    }

    public static List<String> describe(LatencyReport r) {
        List<String> lines = new ArrayList<>();
        for (LatencySummary s : r.summaries()) {
            if (s.labels().get("flow") == null) {
                lines.add(s.labels() + " n=" + s.count() + " p50=" + s.p50Ns() + " max=" + s.maxNs());
            }
        }
        lines.add(r.counters().toString());
        return lines;
    }
}
