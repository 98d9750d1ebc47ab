package io.microbpf.probe.ack.internal;

import io.microbpf.test.KernelTestSupport;
import org.junit.jupiter.api.Test;

class ConnEventLayoutTest {
    @Test
    void javaMirrorMatchesTheCompiledConnEvent() {
        KernelTestSupport.requireKernel(); // libbpf parses the BTF
        KernelTestSupport.assertLayout(KernelTestSupport.resource("/bpf/ack.bpf.o"), "conn_event",
                ConnEventLayout.layout(), ConnEventLayout.SIZE);
    }

    @Test
    void javaMirrorsMatchTheCompiledFlowMetricsAndFlowEvent() {
        KernelTestSupport.requireKernel();
        byte[] elf = KernelTestSupport.resource("/bpf/ack.bpf.o");
        KernelTestSupport.assertLayout(elf, "flow_metrics", FlowMetricsLayout.layout(), FlowMetricsLayout.SIZE);
        KernelTestSupport.assertLayout(elf, "flow_event", FlowMetricsLayout.eventLayout(), FlowMetricsLayout.EVENT_SIZE);
    }
}
