package io.microbpf.api.bpf;

import java.util.List;

/**
 * A logical boundary a probe observes, with its candidate hooks in order of preference.
 *
 * @param name e.g. {@code tcp-state-change}
 * @param candidates tried in order; the first the kernel loads and attaches wins
 * @param required whether the probe cannot run without this attach point
 */
public record AttachPoint(String name, List<HookCandidate> candidates, boolean required) {
    public AttachPoint {
        candidates = List.copyOf(candidates);
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("attach point " + name + " has no candidate hooks");
        }
    }

    public static AttachPoint required(String name, HookCandidate... candidates) {
        return new AttachPoint(name, List.of(candidates), true);
    }

    public static AttachPoint optional(String name, HookCandidate... candidates) {
        return new AttachPoint(name, List.of(candidates), false);
    }
}
