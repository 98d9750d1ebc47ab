package io.microbpf.sink.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.microbpf.api.Probe;
import io.microbpf.api.SinkStats;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The REST resources under {@code /microbpf/api/} as JSON (Jackson). Plain Java: the servlet calls it,
 * tests call it directly.
 */
public final class Api {
    /** Sortable flow fields: JSON name to value. */
    static final Map<String, ToLongFunction<TcpFlowEvent>> FLOW_SORT = Map.ofEntries(
            Map.entry("bytesSent", TcpFlowEvent::bytesSent), Map.entry("bytesReceived", TcpFlowEvent::bytesReceived),
            Map.entry("cwndPackets", TcpFlowEvent::cwndPackets), Map.entry("srttUs", TcpFlowEvent::srttUs),
            Map.entry("retransmittedPackets", TcpFlowEvent::retransmittedPackets),
            Map.entry("durationNs", TcpFlowEvent::durationNs), Map.entry("sendQueueBytes", TcpFlowEvent::sendQueueBytes),
            Map.entry("flightSizePackets", TcpFlowEvent::flightSizePackets));

    private final ObjectMapper json;
    private final Sources sources;

    public Api(ObjectMapper json, Sources sources) {
        this.json = json;
        this.sources = sources;
    }

    public byte[] probes() throws IOException {
        ArrayNode out = json.createArrayNode();
        if (sources.probes() != null) {
            for (Probe p : sources.probes().probes()) {
                ObjectNode n = out.addObject();
                n.put("id", p.id());
                n.put("family", p.family());
                n.put("state", p.state().name());
                n.set("hooks", json.valueToTree(p.hooks()));
                n.put("events", p.events());
                n.put("lost", p.lost());
                n.put("problem", p.problem());
            }
        }
        return json.writeValueAsBytes(out);
    }

    public byte[] sinks() throws IOException {
        ArrayNode out = json.createArrayNode();
        if (sources.dispatcher() != null) {
            for (SinkStats s : sources.dispatcher().sinkStats()) {
                ObjectNode n = json.valueToTree(s);
                n.put("state", s.state());
                out.add(n);
            }
        }
        return json.writeValueAsBytes(out);
    }

    /** Every live flow of every flow table, largest {@code sort} first, at most {@code limit}. */
    public static List<TcpFlowEvent> flows(Sources sources, String sort, int limit) {
        List<TcpFlowEvent> all = new ArrayList<>();
        for (FlowTable t : sources.flowTables()) {
            all.addAll(t.flows());
        }
        ToLongFunction<TcpFlowEvent> key = sort == null ? f -> f.bytesSent() + f.bytesReceived() : FLOW_SORT.get(sort);
        all.sort(Comparator.comparingLong(key).reversed().thenComparingLong(TcpFlowEvent::socketCookie));
        return all.size() > limit ? all.subList(0, limit) : all;
    }

    public byte[] flows(String sort, int limit) throws IOException {
        if (sort != null && !FLOW_SORT.containsKey(sort)) {
            throw new IllegalArgumentException("sort=" + sort + " is not one of " + new java.util.TreeSet<>(FLOW_SORT.keySet()));
        }
        ObjectNode out = json.createObjectNode();
        long evicted = 0;
        long storageFailed = 0;
        int total = 0;
        for (FlowTable t : sources.flowTables()) {
            evicted += t.evictedFlows();
            storageFailed += t.socketStorageFailedFlows();
            total += t.flows().size();
        }
        out.put("available", !sources.flowTables().isEmpty());
        out.put("total", total);
        out.put("evictedFlows", evicted);
        out.put("socketStorageFailedFlows", storageFailed);
        out.set("flows", json.valueToTree(flows(sources, sort, limit)));
        return json.writeValueAsBytes(out);
    }

    /** Latency summaries of every family except {@code netlat} (or only {@code netlat}), grouped by family. */
    public byte[] latency(boolean netlat) throws IOException {
        ObjectNode out = json.createObjectNode();
        for (LatencyReport r : sources.latencyReports()) {
            if ("netlat".equals(r.family()) != netlat) {
                continue;
            }
            ArrayNode series = out.has(r.family()) ? (ArrayNode) out.get(r.family()) : out.putArray(r.family());
            for (LatencySummary s : r.summaries()) {
                series.add(json.valueToTree(s));
            }
        }
        return json.writeValueAsBytes(out);
    }
}
