package io.microbpf.probe.ack.internal.shell;

import io.microbpf.probe.ack.TcpFlowEvent;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sorting and filtering of flows by any metric of {@link TcpFlowEvent}, for the shell commands. */
final class FlowQuery {
    /** Every metric name (the record's components), in declaration order. */
    static final Map<String, RecordComponent> METRICS = new LinkedHashMap<>();

    static {
        for (RecordComponent c : TcpFlowEvent.class.getRecordComponents()) {
            METRICS.put(c.getName(), c);
        }
    }

    private FlowQuery() {}

    static Object value(TcpFlowEvent f, String metric) {
        try {
            return METRICS.get(metric).getAccessor().invoke(f);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Filters by port (local or remote, 0 = any) and address (local or remote, null = any), sorts by
     * {@code sort} (largest first unless {@code ascending}) and keeps at most {@code limit}.
     */
    static List<TcpFlowEvent> select(List<TcpFlowEvent> flows, String sort, boolean ascending, int limit, int port,
            String address) {
        if (!METRICS.containsKey(sort)) {
            throw new IllegalArgumentException("unknown metric '" + sort + "'; sort by one of: " + String.join(", ", METRICS.keySet()));
        }
        if (limit < 1) {
            throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1..65535, got " + port);
        }
        List<TcpFlowEvent> out = new ArrayList<>();
        for (TcpFlowEvent f : flows) {
            if (port != 0 && f.localPort() != port && f.remotePort() != port) {
                continue;
            }
            if (address != null && !address.equals(f.localAddress()) && !address.equals(f.remoteAddress())) {
                continue;
            }
            out.add(f);
        }
        @SuppressWarnings({"unchecked", "rawtypes"})
        Comparator<TcpFlowEvent> byMetric = Comparator.comparing(f -> (Comparable) value(f, sort));
        out.sort(ascending ? byMetric : byMetric.reversed());
        return out.size() > limit ? out.subList(0, limit) : out;
    }
}
