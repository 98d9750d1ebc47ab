package io.microbpf.api.bpf;

import java.util.Objects;

/**
 * One way to serve an attach point: the BPF program (by its C function name) and how it attaches.
 *
 * @param program the program's name in the object (the C function name)
 * @param kind how it attaches
 * @param hook what it hooks, as users read it, e.g. {@code fentry/tcp_set_state}
 */
public record HookCandidate(String program, AttachKind kind, String hook) {
    public HookCandidate {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(hook, "hook");
    }

    @Override
    public String toString() {
        return hook;
    }
}
