package io.microbpf.core.internal;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/** Tracks every {@link Probe} service, whichever bundle registered it. */
@Component(service = ProbeRegistry.class, immediate = true)
public class ProbeRegistryComponent implements ProbeRegistry {
    private final CopyOnWriteArrayList<Probe> probes = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProbe(Probe probe) {
        probes.add(probe);
    }

    void removeProbe(Probe probe) {
        probes.remove(probe);
    }

    @Override
    public List<Probe> probes() {
        return probes.stream().sorted(Comparator.comparing(Probe::id)).toList();
    }

    @Override
    public Optional<Probe> probe(String id) {
        return probes.stream().filter(p -> p.id().equals(id)).findFirst();
    }
}
