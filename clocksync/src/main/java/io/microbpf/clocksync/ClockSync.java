package io.microbpf.clocksync;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Clock offsets between this agent and its peers, measured with NTP-style four-timestamp probes
 * over UDP in the agents' record clocks ({@link AgentClock}).
 */
public interface ClockSync extends AgentClock {
    /** Every configured peer, in configuration order. */
    List<PeerClock> peers();

    /** One peer by id. */
    Optional<PeerClock> peer(String peerId);

    /**
     * Converts an instant in {@code agentId}'s clock to ours: the instant itself for our own id,
     * {@code remoteNs − offset} for a synced peer, empty for an agent we have no offset for.
     */
    default OptionalLong toLocalNs(String agentId, long remoteNs) {
        if (agentId().equals(agentId)) {
            return OptionalLong.of(remoteNs);
        }
        return peer(agentId).filter(PeerClock::synced).map(p -> OptionalLong.of(remoteNs - p.offsetNs()))
                .orElse(OptionalLong.empty());
    }
}
