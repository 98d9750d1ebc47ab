package io.microbpf.core.internal.shell;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.SinkStats;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "stats", description = "Totals: events read from the kernel, lost in the kernel, published, delivered and dropped by sinks")
public class StatsCommand implements Action {
    @Reference
    ProbeRegistry registry;

    @Reference
    Dispatcher dispatcher;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        long events = 0;
        long lost = 0;
        int running = 0;
        for (Probe p : registry.probes()) {
            events += p.events();
            lost += p.lost();
            if (p.state() == io.microbpf.api.ProbeState.RUNNING) {
                running++;
            }
        }
        long delivered = 0;
        long dropped = 0;
        long failed = 0;
        for (SinkStats s : dispatcher.sinkStats()) {
            delivered += s.delivered();
            dropped += s.dropped();
            failed += s.failed();
        }
        out.printf("probes            %d (%d running)%n", registry.probes().size(), running);
        out.printf("events read       %d%n", events);
        out.printf("events lost       %d   (kernel ring buffer full)%n", lost);
        out.printf("events published  %d%n", dispatcher.publishedEvents());
        out.printf("sinks             %d%n", dispatcher.sinkStats().size());
        out.printf("sink delivered    %d%n", delivered);
        out.printf("sink dropped      %d   (sink queue full or sink left)%n", dropped);
        out.printf("sink failed       %d   (sink threw)%n", failed);
        return null;
    }
}
