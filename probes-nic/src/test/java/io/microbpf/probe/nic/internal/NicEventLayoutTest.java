package io.microbpf.probe.nic.internal;

import io.microbpf.test.KernelTestSupport;
import org.junit.jupiter.api.Test;

class NicEventLayoutTest {
    @Test
    void javaMirrorMatchesTheCompiledNicEvent() {
        KernelTestSupport.requireKernel(); // libbpf parses the BTF
        KernelTestSupport.assertLayout(KernelTestSupport.resource("/bpf/nic.bpf.o"), "nic_event",
                NicEventLayout.layout(), NicEventLayout.SIZE);
    }
}
