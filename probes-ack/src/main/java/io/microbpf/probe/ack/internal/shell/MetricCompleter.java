package io.microbpf.probe.ack.internal.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

/** Completes metric names for microbpf:flows --sort. */
@Service
public class MetricCompleter implements Completer {
    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(FlowQuery.METRICS.keySet()).complete(session, commandLine, candidates);
    }
}
