package io.microbpf.api;

import java.util.List;

/**
 * Service registered by every probe component; the core's {@link ProbeRegistry} tracks them and the
 * shell commands drive them.
 */
public interface Probe {
    /** Unique id, e.g. {@code ack}. */
    String id();

    /** Probe family, e.g. {@code flow}. */
    String family();

    ProbeState state();

    /** Hook choice per attach point; empty until the probe has started once. */
    List<HookReport> hooks();

    /** Events read from the kernel and published. */
    long events();

    /** Events the kernel could not hand over (ring buffer reservation failures). */
    long lost();

    /** One clear line saying why the probe is not running, or {@code null}. */
    String problem();

    /**
     * Loads and attaches with the latest configuration; on failure the state becomes FAILED and
     * {@link #problem()} says why. Ends a {@link #stop()}. A probe its configuration disables stays
     * STOPPED and {@link #problem()} says so.
     */
    void start();

    /**
     * Detaches and releases every kernel object, mmap and thread the probe holds. Idempotent. The probe
     * stays stopped until {@link #start()}: configuration changes are applied but do not start it.
     */
    void stop();
}
