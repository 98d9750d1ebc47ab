package io.microbpf.probe.app.internal.shell;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.api.latency.LatencyTable;
import io.microbpf.probe.app.AppLatency;
import java.io.PrintStream;
import java.util.List;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "app-latency",
        description = "Application-layer latency per request/response exchange: a row per role, service port and phase "
                + "(server: queue, think, send; client: send, request)")
public class AppLatencyCommand implements Action {
    @Reference
    AppLatency report;

    @Option(name = "-p", aliases = "--port", description = "Only this service port (the server's port, on either side)")
    int port;

    @Option(name = "-r", aliases = "--role", description = "Only this role: server or client")
    String role;

    @Option(name = "-f", aliases = "--flows", description = "A row per flow (local > remote endpoint) instead of per port")
    boolean flows;

    @Option(name = "--reset", description = "After printing, empty every series (start a new measurement window)")
    boolean reset;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1..65535, got " + port);
        }
        if (role != null && !role.equals("server") && !role.equals("client")) {
            throw new IllegalArgumentException("--role must be server or client, got '" + role + "'");
        }
        List<LatencySummary> all = flows ? report.flowSummaries() : report.summaries();
        List<LatencySummary> shown = all.stream().filter(s -> role == null || role.equals(s.labels().get("role")))
                .filter(s -> port == 0 || matchesPort(s, port)).toList();
        if (shown.isEmpty()) {
            out.println("no exchanges recorded" + (port != 0 || role != null ? " for this selection" : "")
                    + (all.isEmpty() ? "" : " (" + all.size() + " series in all)"));
        } else {
            out.print(LatencyTable.render(shown));
        }
        AppLatency.Counts c = report.counts();
        out.println(c.answered() + " exchanges answered; without a response: " + c.closed() + " closed, " + c.timedOut()
                + " timed out, " + c.superseded() + " superseded, " + c.evicted() + " evicted from the pending map; "
                + c.published() + " app.exchange records published");
        if (reset) {
            report.reset();
            out.println("every series reset");
        }
        return null;
    }

    /** A port row matches its port; a flow row when either endpoint has it. */
    static boolean matchesPort(LatencySummary s, int port) {
        String p = s.labels().get("port");
        if (p != null) {
            return p.equals(Integer.toString(port));
        }
        String flow = s.labels().getOrDefault("flow", "");
        for (String endpoint : flow.split(">")) {
            if (endpoint.endsWith(":" + port)) {
                return true;
            }
        }
        return false;
    }
}
