package io.microbpf.probe.ack.internal.shell;

import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.PrintStream;
import java.util.List;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

@Service
@Command(scope = "microbpf", name = "flows", description = "Live TCP flows with their metrics (as of the last snapshot)")
public class FlowsCommand implements Action {
    @Reference
    FlowTable table;

    @Option(name = "-s", aliases = "--sort", description = "Metric to sort by, largest first (any field of microbpf:flow)")
    @Completion(MetricCompleter.class)
    String sort = "bytesSent";

    @Option(name = "-a", aliases = "--ascending", description = "Smallest first")
    boolean ascending;

    @Option(name = "-n", aliases = "--limit", description = "Show at most this many flows")
    int limit = 20;

    @Option(name = "-p", aliases = "--port", description = "Only flows with this local or remote port")
    int port;

    @Option(name = "--address", description = "Only flows with this local or remote address")
    String address;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        List<TcpFlowEvent> all = table.flows();
        List<TcpFlowEvent> shown = FlowQuery.select(all, sort, ascending, limit, port, address);
        ShellTable t = new ShellTable();
        for (String h : new String[] {"ID", "LOCAL", "REMOTE", "CWND", "FLIGHT", "RWND_B", "MSS_B", "SENT_B", "RCVD_B",
            "RETRANS", "FAST", "RTO", "SNDQ_B", "MAXQ_B", "SRTT_US", "RTT_N", "READ_B", "WRITE_B", "DUR_MS"}) {
            t.column(h).alignRight();
        }
        for (TcpFlowEvent f : shown) {
            t.addRow().addContent(Long.toUnsignedString(f.socketCookie()), f.localAddress() + ":" + f.localPort(),
                    f.remoteAddress() + ":" + f.remotePort(), f.cwndPackets(), f.flightSizePackets(), f.peerWindowBytes(),
                    f.mssBytes(), f.bytesSent(), f.bytesReceived(), f.retransmittedPackets(), f.fastRetransmits(), f.timeouts(),
                    f.sendQueueBytes(), f.maxSendQueueBytes(), f.srttUs(), f.rttSamples(), f.readBytes(), f.writeBytes(),
                    f.durationNs() / 1_000_000);
        }
        t.print(out);
        out.println(shown.size() + " of " + all.size() + " live flows, sorted by " + sort + (ascending ? " ascending" : "")
                + "; " + table.evictedFlows() + " evicted from the in-kernel map since start"
                + "; " + table.socketStorageFailedFlows() + " without ACK/read/write/RTT counts (socket storage not created)");
        return null;
    }
}
