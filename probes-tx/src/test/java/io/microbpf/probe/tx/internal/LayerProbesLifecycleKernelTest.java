package io.microbpf.probe.tx.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.ProbeState;
import io.microbpf.probe.rx.internal.RxProbeComponent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelResources;
import io.microbpf.test.KernelTestSupport;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad configuration is one message and changes nothing; stop releases every kernel object, mmap and thread. */
class LayerProbesLifecycleKernelTest {
    @Test
    void badConfigKeepsTheProbesRunningAndStopReleasesEverything() throws Exception {
        KernelTestSupport.requireKernel();
        KernelResources before = KernelResources.snapshot("microbpf-probe-");
        CapturingPublisher publisher = new CapturingPublisher();
        RxProbeComponent rx = new RxProbeComponent();
        TxProbeComponent tx = new TxProbeComponent();
        rx.setPublisher(publisher);
        tx.setPublisher(publisher);
        try {
            rx.activate(Map.of());
            tx.activate(Map.of());
            assertEquals(ProbeState.RUNNING, rx.state(), rx.problem());
            assertEquals(ProbeState.RUNNING, tx.state(), tx.problem());
            KernelResources running = KernelResources.snapshot("microbpf-probe-");
            assertTrue(running.progFds() > before.progFds() && running.linkFds() > before.linkFds()
                    && running.threads() == before.threads() + 2, before + " -> " + running);

            tx.applyConfig(Map.of("mode", "fast", "events.sample.every", "0", "max.flows", "x"));
            assertEquals(ProbeState.RUNNING, tx.state(), "a bad configuration leaves the probe running");
            String problem = tx.problem();
            assertTrue(problem.contains("mode=fast") && problem.contains("events.sample.every=0")
                    && problem.contains("max.flows=x") && problem.contains("keeping the previous configuration"), problem);
            assertEquals("histogram", tx.mode());
            assertEquals(running, KernelResources.snapshot("microbpf-probe-"), "nothing was reloaded");
        } finally {
            rx.deactivate();
            tx.deactivate();
        }
        assertEquals(ProbeState.STOPPED, rx.state());
        assertEquals(ProbeState.STOPPED, tx.state());
        assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "every fd, mapping and thread released");
    }
}
