package io.microbpf.probe.ack.internal.shell;

import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "flow", description = "One live TCP flow in full")
public class FlowCommand implements Action {
    @Reference
    FlowTable table;

    @Argument(index = 0, name = "id", required = true, description = "Flow id (the ID column of microbpf:flows: the socket cookie)")
    String id;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        long cookie;
        try {
            cookie = Long.parseUnsignedLong(id);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("flow id must be a number (the ID column of microbpf:flows), got '" + id + "'");
        }
        TcpFlowEvent flow = table.flows().stream().filter(f -> f.socketCookie() == cookie).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no live flow " + id + " (it may have closed; see microbpf:flows)"));
        for (String metric : FlowQuery.METRICS.keySet()) {
            out.printf("%-22s %s%n", metric, FlowQuery.value(flow, metric));
        }
        out.printf("%-22s %s%n", "meanRttUs", flow.meanRttUs() < 0 ? "-" : String.format("%.1f", flow.meanRttUs()));
        return null;
    }
}
