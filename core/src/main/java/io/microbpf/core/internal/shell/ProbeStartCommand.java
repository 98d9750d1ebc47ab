package io.microbpf.core.internal.shell;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "probe-start", description = "Loads and attaches a probe with its latest configuration (ends a probe-stop)")
public class ProbeStartCommand implements Action {
    @Reference
    ProbeRegistry registry;

    @Argument(index = 0, name = "id", required = true, description = "Probe id (see probe-list)")
    @Completion(ProbeIdCompleter.class)
    String id;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        Probe p = ProbeLookup.find(registry, id);
        p.start();
        if (p.state() == ProbeState.RUNNING) {
            out.println("probe " + id + " running");
        } else {
            throw new IllegalStateException("probe " + id + " did not start: " + p.problem());
        }
        return null;
    }
}
