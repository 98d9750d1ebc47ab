package io.microbpf.core.internal.shell;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import java.util.stream.Collectors;

final class ProbeLookup {
    private ProbeLookup() {}

    /** The probe with {@code id}, or one clear error naming the probes that exist. */
    static Probe find(ProbeRegistry registry, String id) {
        return registry.probe(id).orElseThrow(() -> new IllegalArgumentException("no probe '" + id + "'; installed probes: "
                + (registry.probes().isEmpty() ? "none" : registry.probes().stream().map(Probe::id).collect(Collectors.joining(", ")))));
    }
}
