package io.microbpf.core.internal.shell;

import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

@Service
@Command(scope = "microbpf", name = "probe-list", description = "Lists probes: state, the hook serving each attach point, events and losses")
public class ProbeListCommand implements Action {
    @Reference
    ProbeRegistry registry;

    @Option(name = "-v", aliases = "--verbose", description = "Also show why rejected hook candidates were rejected")
    boolean verbose;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("ID");
        table.column("FAMILY");
        table.column("STATE");
        table.column("HOOKS");
        table.column("EVENTS").alignRight();
        table.column("LOST").alignRight();
        table.column("PROBLEM");
        for (Probe p : registry.probes()) {
            StringBuilder hooks = new StringBuilder();
            for (HookReport h : p.hooks()) {
                if (hooks.length() > 0) {
                    hooks.append(", ");
                }
                hooks.append(h.attachPoint()).append('=').append(h.chosen() == null ? "none" : h.chosen());
            }
            String problem = p.problem();
            table.addRow().addContent(p.id(), p.family(), p.state(), hooks.length() == 0 ? "-" : hooks,
                    p.events(), p.lost(), problem == null ? "" : problem);
        }
        table.print(out);
        if (registry.probes().isEmpty()) {
            out.println("no probes installed (feature:install microbpf-probe-ack)");
        }
        if (verbose) {
            for (Probe p : registry.probes()) {
                for (HookReport h : p.hooks()) {
                    for (String r : h.rejected()) {
                        out.println(p.id() + " " + h.attachPoint() + " rejected " + r);
                    }
                }
            }
        }
        return null;
    }
}
