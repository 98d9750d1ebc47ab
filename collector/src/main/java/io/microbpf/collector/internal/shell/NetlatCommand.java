package io.microbpf.collector.internal.shell;

import io.microbpf.api.latency.LatencyTable;
import io.microbpf.collector.CollectorStats;
import io.microbpf.collector.NetLatencyCollector;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "netlat", description = "One-way NIC-to-NIC latency per host pair (and per flow with -f), from the collector's matched TX/RX records")
public class NetlatCommand implements Action {
    @Reference
    NetLatencyCollector collector;

    @Option(name = "-f", aliases = "--flows", description = "Also one row per flow")
    boolean flows;

    @Option(name = "--reset", description = "Empty the series and counters after printing them")
    boolean reset;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        out.print(LatencyTable.render(collector.summaries(flows)));
        CollectorStats s = collector.stats();
        out.printf("records %d, matched %d, pending tx %d / rx %d, aged out tx %d / rx %d, duplicates %d, no clock %d, "
                + "same agent %d, out of window %d, negative (clamped to 0) %d, pushes %d (refused %d)%n",
                s.records(), s.matched(), s.pendingTx(), s.pendingRx(), s.txAgedOut(), s.rxAgedOut(), s.duplicates(),
                s.noClock(), s.sameAgent(), s.outOfWindow(), s.negativeClamped(), s.batches(), s.rejectedBatches());
        out.println("endpoint: " + (collector.endpoint() == null ? "not listening" : collector.endpoint()));
        if (reset) {
            collector.reset();
        }
        return null;
    }
}
