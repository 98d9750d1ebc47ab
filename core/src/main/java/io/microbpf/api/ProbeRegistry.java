package io.microbpf.api;

import java.util.List;
import java.util.Optional;

/** Core service tracking every registered {@link Probe}. */
public interface ProbeRegistry {
    /** Probes sorted by id. */
    List<Probe> probes();

    Optional<Probe> probe(String id);
}
