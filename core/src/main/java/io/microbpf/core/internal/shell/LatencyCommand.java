package io.microbpf.core.internal.shell;

import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import io.microbpf.api.latency.LatencyTable;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * {@code microbpf:latency}: one row per kernel layer (RX-MAC, RX-IP, RX-TCP, TX-TCP, TX-IP, TX-QDISC,
 * TX-MAC) over every {@link LatencyReport} service of family {@code layer} (the rx and tx probes).
 */
@Service
@Command(scope = "microbpf", name = "latency", description = "Per-packet latency in each kernel layer (RX-MAC ... TX-MAC): count, p50, p90, p99, p99.9, max")
public class LatencyCommand implements Action {
    static final String FAMILY = "layer";
    static final List<String> ORDER = List.of("RX-MAC", "RX-IP", "RX-TCP", "TX-TCP", "TX-IP", "TX-QDISC", "TX-MAC");

    @Option(name = "--flow", description = "Only the per-flow rows of flows whose label (src:port->dst:port) contains this text, e.g. a port or an address")
    String flow;

    @Option(name = "--reset", description = "After printing, start a new measurement window (every layer and flow series is emptied)")
    boolean reset;

    PrintStream out = System.out;

    /** Where the reports come from; the OSGi service registry unless a test sets it. */
    Supplier<List<LatencyReport>> reports = this::registered;

    private final List<Runnable> release = new ArrayList<>();

    @Override
    public Object execute() {
        try {
            return print();
        } finally {
            release.forEach(Runnable::run);
            release.clear();
        }
    }

    private Object print() {
        List<LatencyReport> layer = new ArrayList<>();
        for (LatencyReport r : reports.get()) {
            if (FAMILY.equals(r.family())) {
                layer.add(r);
            }
        }
        if (layer.isEmpty()) {
            out.println("no per-layer latency probes installed (feature:install microbpf-probe-rx microbpf-probe-tx)");
            return null;
        }
        List<LatencySummary> rows = new ArrayList<>();
        for (LatencyReport r : layer) {
            for (LatencySummary s : r.summaries()) {
                String f = s.labels().get("flow");
                if (flow == null ? f == null : f != null && f.contains(flow)) {
                    rows.add(s);
                }
            }
        }
        rows.sort(Comparator.comparing((LatencySummary s) -> s.labels().getOrDefault("flow", ""))
                .thenComparingInt(s -> rank(s.labels().get("layer"))));
        if (rows.isEmpty()) {
            out.println(flow == null ? "no layer series" : "no flow matches '" + flow
                    + "' (per-flow series need per.flow = true; see the flows with: microbpf:latency --flow '>')");
        } else {
            out.print(LatencyTable.render(rows));
        }
        for (LatencyReport r : layer) {
            Map<String, Long> c = r.counters();
            if (!c.isEmpty()) {
                StringBuilder sb = new StringBuilder();
                c.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
                out.println(sb);
            }
        }
        if (reset) {
            layer.forEach(LatencyReport::reset);
            out.println("measurement window reset");
        }
        return null;
    }

    private static int rank(String layer) {
        int i = ORDER.indexOf(layer);
        return i < 0 ? ORDER.size() : i;
    }

    private List<LatencyReport> registered() {
        Bundle b = FrameworkUtil.getBundle(LatencyCommand.class);
        BundleContext ctx = b == null ? null : b.getBundleContext();
        List<LatencyReport> found = new ArrayList<>();
        if (ctx == null) {
            return found;
        }
        try {
            for (ServiceReference<LatencyReport> ref : ctx.getServiceReferences(LatencyReport.class, null)) {
                LatencyReport r = ctx.getService(ref);
                if (r != null) {
                    found.add(r);
                    release.add(() -> ctx.ungetService(ref)); // held only while the command runs
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e); // null filter
        }
        return found;
    }
}
