package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Btf;
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

    @Test
    void kernelCountersTheJavaSideReadsAreU64sInTheBss() {
        KernelTestSupport.requireKernel();
        try (BpfObject obj = BpfObject.open("layout", KernelTestSupport.resource("/bpf/ack.bpf.o"))) {
            for (String name : AckProbeComponent.BSS_COUNTERS) {
                Btf.Var v = obj.btf().datasecVar(".bss", name); // throws naming it when ack.bpf.c has no such global
                assertEquals(8, v.size(), name + " is a __u64");
            }
        }
    }
}
