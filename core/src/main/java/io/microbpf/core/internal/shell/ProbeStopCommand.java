package io.microbpf.core.internal.shell;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "microbpf", name = "probe-stop", description = "Detaches a probe and releases its kernel objects; it stays stopped until probe-start, whatever its configuration says")
public class ProbeStopCommand implements Action {
    @Reference
    ProbeRegistry registry;

    @Argument(index = 0, name = "id", required = true, description = "Probe id (see probe-list)")
    @Completion(ProbeIdCompleter.class)
    String id;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        Probe p = ProbeLookup.find(registry, id);
        p.stop();
        out.println("probe " + id + " stopped (until probe-start; configuration changes do not start it)");
        return null;
    }
}
