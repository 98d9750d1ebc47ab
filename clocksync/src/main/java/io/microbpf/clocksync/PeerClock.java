package io.microbpf.clocksync;

/**
 * What clock synchronisation knows about one peer's clock relative to ours.
 *
 * @param peerId the peer agent's id
 * @param address where its clock-sync endpoint is (host:port)
 * @param offsetNs peer clock minus our clock, now (best sample of the window, drift-corrected)
 * @param errorBoundNs |true offset − offsetNs| is at most this: half the best sample's round trip
 *     (minus the peer's own processing time), grown by the maximum drift allowance since it was taken
 * @param driftPpm how fast the offset changes (µs per s), from a fit over the window; 0 until known
 * @param bestRoundTripNs network round trip of the best sample (its delay)
 * @param samples replies in the window
 * @param ageNs time since the last reply, ns; {@code Long.MAX_VALUE} if none yet
 * @param synced whether at least one sample exists (otherwise the other fields mean nothing)
 */
public record PeerClock(String peerId, String address, long offsetNs, long errorBoundNs, double driftPpm,
        long bestRoundTripNs, int samples, long ageNs, boolean synced) {}
