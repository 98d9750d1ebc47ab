package io.microbpf.collector.internal;

import io.microbpf.clocksync.ClockSync;
import io.microbpf.clocksync.PeerClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Clock sync with offsets set by the test. */
final class FakeClockSync implements ClockSync {
    private final String id;
    private final Map<String, Long> offsets = new ConcurrentHashMap<>();

    FakeClockSync(String id) {
        this.id = id;
    }

    FakeClockSync offset(String peer, long ns) {
        offsets.put(peer, ns);
        return this;
    }

    @Override
    public String agentId() {
        return id;
    }

    @Override
    public long injectedOffsetNs() {
        return 0;
    }

    @Override
    public long nowNs() {
        return io.microbpf.api.Clocks.monotonicNs();
    }

    @Override
    public List<PeerClock> peers() {
        List<PeerClock> out = new ArrayList<>();
        offsets.forEach((k, v) -> out.add(new PeerClock(k, "x:1", v, 1000, 0, 2000, 8, 1000, true)));
        return out;
    }

    @Override
    public Optional<PeerClock> peer(String peerId) {
        return peers().stream().filter(p -> p.peerId().equals(peerId)).findFirst();
    }
}
