package io.microbpf.core.internal.shell;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import java.util.List;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

/** Completes probe ids for probe-start / probe-stop. */
@Service
public class ProbeIdCompleter implements Completer {
    @Reference
    ProbeRegistry registry;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter delegate = new StringsCompleter();
        for (Probe p : registry.probes()) {
            delegate.getStrings().add(p.id());
        }
        return delegate.complete(session, commandLine, candidates);
    }
}
