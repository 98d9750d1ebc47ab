package io.microbpf.api.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.microbpf.api.Event;
import io.microbpf.api.ProbeState;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelResources;
import io.microbpf.test.KernelTestSupport;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who decides whether a probe runs: the user's stop and start, {@code enabled} in the configuration,
 * and configuration updates. A real probe on the selftest object (one classic tracepoint), loaded
 * into this kernel.
 */
class BpfProbeStopKernelTest {
    private static final String PID = "io.microbpf.probe.selftest";
    private static final String DISABLED = "disabled in configuration (enabled=false in " + PID + ")";

    /** The selftest object as a probe; its one setting, {@code tag}, is what each load was configured with. */
    static final class SelftestProbe extends BpfProbe<Integer> {
        volatile Integer loadedTag;

        SelftestProbe() {
            super("selftest", "test", PID);
        }

        @Override
        protected String objectName() {
            return "selftest";
        }

        @Override
        protected byte[] objectBytes() {
            return KernelTestSupport.resource("/bpf/selftest.bpf.o");
        }

        @Override
        protected List<AttachPoint> attachPoints() {
            return List.of(AttachPoint.required("tcp-state-change",
                    new HookCandidate("state_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/inet_sock_set_state")));
        }

        @Override
        protected Integer parseConfig(ConfigReader reader) {
            return reader.getInt("tag", 0, 0, 1000);
        }

        @Override
        protected void configureObject(BpfObject obj, Integer tag) {
            loadedTag = tag;
        }

        @Override
        protected void decode(ByteBuffer ring, int offset, int length, List<Event> out) {}
    }

    private KernelResources before;
    private SelftestProbe probe;

    @BeforeEach
    void create() {
        KernelTestSupport.requireKernel();
        before = KernelResources.snapshot("microbpf-probe-");
        probe = new SelftestProbe();
        probe.setPublisher(new CapturingPublisher());
    }

    @AfterEach
    void release() {
        if (probe != null) {
            probe.stop();
            assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "stopped probe holds nothing");
        }
    }

    private void assertRunningWith(int tag) {
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
        assertNull(probe.problem());
        assertEquals(tag, probe.loadedTag, "loaded with the latest configuration");
    }

    private void assertStopped(String problem) {
        assertEquals(ProbeState.STOPPED, probe.state());
        assertEquals(problem, probe.problem());
        assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "a stopped probe holds nothing");
    }

    @Test
    void aProbeTheUserStoppedTakesConfigurationUpdatesButStaysStoppedUntilStart() {
        probe.applyConfig(Map.of("tag", "1"));
        assertRunningWith(1);

        probe.stop();
        assertStopped(BpfProbe.STOPPED_BY_USER);

        probe.applyConfig(Map.of("tag", "2"));
        assertStopped(BpfProbe.STOPPED_BY_USER);
        assertEquals(2, probe.config(), "the update is applied");

        probe.applyConfig(Map.of("tag", "x"));
        assertStopped(BpfProbe.STOPPED_BY_USER + "; invalid configuration " + PID
                + ": tag=x is not a whole number (keeping the previous configuration)");
        assertEquals(2, probe.config());

        probe.applyConfig(Map.of("enabled", "false", "tag", "2"));
        assertStopped(BpfProbe.STOPPED_BY_USER + "; " + DISABLED);

        probe.applyConfig(Map.of("enabled", "true", "tag", "3"));
        assertStopped(BpfProbe.STOPPED_BY_USER);

        probe.start();
        assertRunningWith(3);

        probe.applyConfig(Map.of("tag", "4"));
        assertRunningWith(4); // started by the user: updates restart it again
    }

    @Test
    void enabledFalseStopsItAndEnabledTrueStartsItAgain() {
        probe.applyConfig(Map.of("tag", "1"));
        assertRunningWith(1);

        probe.applyConfig(Map.of("enabled", "false", "tag", "1"));
        assertStopped(DISABLED);

        probe.applyConfig(Map.of("enabled", "false", "tag", "2"));
        assertStopped(DISABLED);

        probe.applyConfig(Map.of("enabled", "true", "tag", "2"));
        assertRunningWith(2);
    }

    @Test
    void startOfADisabledProbeSaysSoAndEndsTheUsersStop() {
        probe.applyConfig(Map.of("tag", "1"));
        probe.stop();
        probe.applyConfig(Map.of("enabled", "false", "tag", "1"));

        probe.start();
        assertStopped(DISABLED); // not started, and no longer held by the user's stop

        probe.applyConfig(Map.of("enabled", "true", "tag", "5"));
        assertRunningWith(5);
    }

    @Test
    void aDisabledProbeTheUserStopsNeedsBothEnabledAndStart() {
        probe.applyConfig(Map.of("enabled", "false", "tag", "1"));
        assertStopped(DISABLED);

        probe.stop();
        assertStopped(BpfProbe.STOPPED_BY_USER + "; " + DISABLED);

        probe.applyConfig(Map.of("enabled", "true", "tag", "8"));
        assertStopped(BpfProbe.STOPPED_BY_USER);

        probe.start();
        assertRunningWith(8);
    }

    @Test
    void releaseAtDeactivateIsNotTheUsersStop() {
        probe.applyConfig(Map.of("tag", "1"));
        probe.stop();
        probe.release();
        assertStopped(null);

        probe.applyConfig(Map.of("tag", "7")); // the next activation of the same instance
        assertRunningWith(7);
    }

    @Test
    void aProbeThatFailedOnABadConfigurationStartsWithAGoodOne() {
        probe.applyConfig(Map.of("tag", "-1", "colour", "red"));
        assertEquals(ProbeState.FAILED, probe.state());
        assertEquals("invalid configuration " + PID + ": tag=-1 is outside 0..1000; unknown key colour", probe.problem());

        probe.applyConfig(Map.of("tag", "6"));
        assertRunningWith(6);
    }
}
