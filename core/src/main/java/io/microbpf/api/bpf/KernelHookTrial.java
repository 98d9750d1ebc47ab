package io.microbpf.api.bpf;

import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The real {@link HookSelector.Trial}: opens a private copy of the object with only the candidate's
 * program, loads it (the verifier runs) and attaches it, then closes everything again.
 */
public final class KernelHookTrial implements HookSelector.Trial {
    private final String objectName;
    private final byte[] elf;
    private final Consumer<BpfObject> configure;

    /**
     * @param configure applied to each trial object before load (constants, map sizes), so the trial
     *     verifies the same program the probe will run
     */
    public KernelHookTrial(String objectName, byte[] elf, Consumer<BpfObject> configure) {
        this.objectName = objectName;
        this.elf = elf;
        this.configure = configure;
    }

    @Override
    public Optional<String> attempt(AttachPoint point, HookCandidate candidate) {
        try (BpfObject obj = BpfObject.open(objectName, elf)) {
            obj.loadOnly(Set.of(candidate.program()));
            configure.accept(obj);
            obj.load();
            obj.attach(candidate.program(), candidate.kind());
            return Optional.empty();
        } catch (BpfException e) {
            return Optional.of(e.getMessage());
        }
    }
}
