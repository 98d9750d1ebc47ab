package io.microbpf.clocksync.internal.shell;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.clocksync.ClockSync;
import io.microbpf.clocksync.PeerClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClockCommandTest {
    static ClockSync fake(List<PeerClock> peers) {
        return new ClockSync() {
            @Override
            public List<PeerClock> peers() {
                return peers;
            }

            @Override
            public Optional<PeerClock> peer(String id) {
                return peers.stream().filter(p -> p.peerId().equals(id)).findFirst();
            }

            @Override
            public String agentId() {
                return "client";
            }

            @Override
            public long injectedOffsetNs() {
                return 0;
            }

            @Override
            public long nowNs() {
                return 0;
            }
        };
    }

    @Test
    void showsPeersWithOffsetErrorBoundDriftAndAge() {
        ClockCommand c = new ClockCommand();
        c.clock = fake(List.of(new PeerClock("server", "10.0.0.2:7787", 3_500_012_156L, 36_623, 1.25, 70_954, 12, 76_268_896, true),
                new PeerClock("far", "10.0.0.9:7787", 0, Long.MAX_VALUE, 0, 0, 0, Long.MAX_VALUE, false)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        c.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        c.execute();
        String out = bytes.toString(StandardCharsets.UTF_8);
        for (String s : new String[] {"agent client", "CLOCK_MONOTONIC", "server", "10.0.0.2:7787", "+3.50 s", "± 36.6 µs", "1.25",
            "71.0 µs", "76.3 ms", "far", "never", "OFFSET = peer clock"}) {
            assertTrue(out.contains(s), s + " in:\n" + out);
        }
    }
}
