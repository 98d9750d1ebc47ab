package io.microbpf.api;

/**
 * One typed record produced by a probe. Implementations are immutable and Jackson-serialisable
 * (records with plain accessors).
 *
 * <p>Both timestamps refer to the same instant: {@link #monotonicNs()} is CLOCK_MONOTONIC as the
 * BPF program read it with {@code bpf_ktime_get_ns()}; {@link #wallClockNs()} is the same instant
 * converted to nanoseconds since the Unix epoch by {@link Clocks}.
 */
public interface Event {
    /** Stable event type name, e.g. {@code tcp.connection}. Sinks filter on it. */
    String type();

    /** CLOCK_MONOTONIC nanoseconds at which the kernel saw the event. */
    long monotonicNs();

    /** Wall-clock nanoseconds since the epoch for the same instant. */
    long wallClockNs();

    /** A compact one-line human-readable form, used by the console sink. */
    String summary();
}
