package io.microbpf.probe.app.internal;

import io.microbpf.test.KernelTestSupport;
import org.junit.jupiter.api.Test;

class ExchangeLayoutTest {
    @Test
    void javaMirrorMatchesTheCompiledAppExchange() {
        KernelTestSupport.requireKernel(); // libbpf parses the BTF
        KernelTestSupport.assertLayout(KernelTestSupport.resource("/bpf/app.bpf.o"), "app_exchange",
                ExchangeLayout.layout(), ExchangeLayout.SIZE);
    }
}
