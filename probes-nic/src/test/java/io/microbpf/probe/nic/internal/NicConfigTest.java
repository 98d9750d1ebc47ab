package io.microbpf.probe.nic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.ProbeState;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NicConfigTest {
    @Test
    void everyBadKeyIsNamedInOneMessageAndTheProbeDoesNotStart() {
        NicProbeComponent p = new NicProbeComponent();
        p.activate(Map.of("interfaces", "nl-no-such-dev,3", "sample.one.in", "0", "netns", "elsewhere",
                "exclude.ports", "http", "include.loopback", "maybe"));
        try {
            assertEquals(ProbeState.FAILED, p.state());
            String why = p.problem();
            for (String s : new String[] {"no device nl-no-such-dev", "sample.one.in=0", "netns=elsewhere", "exclude.ports: http",
                "include.loopback=maybe"}) {
                assertTrue(why.contains(s), s + " in: " + why);
            }
        } finally {
            p.deactivate();
        }
    }
}
