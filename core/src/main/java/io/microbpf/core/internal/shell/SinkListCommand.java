package io.microbpf.core.internal.shell;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.SinkStats;
import java.io.PrintStream;
import java.util.Map;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

@Service
@Command(scope = "microbpf", name = "sink-list", description = "Lists sinks with their state (ok, or failed and why), events delivered, dropped (queue full) and failed (sink threw), and each sink's own counters")
public class SinkListCommand implements Action {
    @Reference
    Dispatcher dispatcher;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("NAME");
        table.column("STATE");
        table.column("DELIVERED").alignRight();
        table.column("DROPPED").alignRight();
        table.column("FAILED").alignRight();
        table.column("QUEUED").alignRight();
        table.column("COUNTERS");
        table.column("LAST ERROR");
        for (SinkStats s : dispatcher.sinkStats()) {
            table.addRow().addContent(s.name(), s.problem() == null ? s.state() : s.state() + ": " + s.problem(),
                    s.delivered(), s.dropped(), s.failed(), s.queuedEvents(), counters(s.counters()),
                    s.lastError() == null ? "" : s.lastError());
        }
        table.print(out);
        return null;
    }

    /** The sink's own counters as {@code name=value} pairs in its order, or {@code -} when it has none. */
    static String counters(Map<String, Long> counters) {
        if (counters.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        counters.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return b.toString();
    }
}
