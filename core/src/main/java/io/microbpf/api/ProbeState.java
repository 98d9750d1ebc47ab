package io.microbpf.api;

/** Lifecycle of a probe. */
public enum ProbeState {
    /** Configured but not attached (stopped by the user or disabled in config). */
    STOPPED,
    /** Kernel programs loaded and attached; events flowing. */
    RUNNING,
    /** Start was attempted and failed; {@link Probe#problem()} says why. */
    FAILED
}
