package io.microbpf.probe.tx.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.HookReport;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.HookSelector;
import io.microbpf.probe.layer.LayerLayoutTest;
import io.microbpf.test.KernelTestSupport;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The tx probe's hook lists under a fake kernel (HookSelector.Trial), and its object's struct layouts. */
class TxHookFallbackTest {
    private static Map<String, HookReport> select(HookSelector.Trial trial) {
        HookSelector.Selection sel = HookSelector.select(TxProbeComponent.hookLists(), trial);
        assertTrue(sel.complete(), sel.problem());
        return sel.reports().stream().collect(Collectors.toMap(HookReport::attachPoint, r -> r));
    }

    @Test
    void whereFentryIsRefusedTheFallbacksServeAndTheRefusalIsReported() {
        Map<String, HookReport> r = select((p, c) -> c.kind() == AttachKind.FENTRY
                ? Optional.of("load of tx failed: EPERM (Operation not permitted)") : Optional.empty());
        assertEquals("tp_btf/tcp_sendmsg_locked", r.get("tx-tcp-start").chosen());
        assertEquals("cgroup_skb/egress", r.get("tx-ip-start").chosen());
        assertEquals("tp_btf/net_dev_queue", r.get("tx-dev-queue").chosen());
        assertEquals("tp_btf/qdisc_enqueue", r.get("tx-qdisc-enqueue").chosen());
        assertEquals("tp_btf/qdisc_dequeue", r.get("tx-qdisc-dequeue").chosen());
        assertEquals("tp_btf/net_dev_start_xmit", r.get("tx-xmit").chosen());
        for (String p : new String[] {"tx-tcp-start", "tx-ip-start", "tx-ip6-start", "tx-dev-queue", "tx-xmit"}) {
            assertEquals(1, r.get(p).rejected().size(), r.get(p).toString());
            assertTrue(r.get(p).rejected().get(0).startsWith("fentry/") && r.get(p).rejected().get(0).contains("EPERM"));
        }
    }

    @Test
    void whereFentryWorksTheSeedsFunctionsServe() {
        Map<String, HookReport> r = select((p, c) -> Optional.empty());
        assertEquals("fentry/tcp_sendmsg_locked", r.get("tx-tcp-start").chosen());
        assertEquals("fentry/ip_queue_xmit", r.get("tx-ip-start").chosen());
        assertEquals("fentry/inet6_csk_xmit", r.get("tx-ip6-start").chosen());
        assertEquals("fentry/__dev_queue_xmit", r.get("tx-dev-queue").chosen());
        assertEquals("fentry/dev_hard_start_xmit", r.get("tx-xmit").chosen());
    }

    @Test
    void withoutBtfTracepointsRawAndClassicTracepointsServe() {
        Map<String, HookReport> r = select((p, c) -> c.kind() == AttachKind.TRACEPOINT || c.kind() == AttachKind.RAW_TRACEPOINT
                || c.kind() == AttachKind.CGROUP_SKB_EGRESS ? Optional.empty() : Optional.of(c.kind() + " refused"));
        assertEquals("raw_tracepoint/tcp_sendmsg_locked", r.get("tx-tcp-start").chosen());
        assertEquals("tracepoint/net/net_dev_queue", r.get("tx-dev-queue").chosen());
        assertEquals("tracepoint/qdisc/qdisc_enqueue", r.get("tx-qdisc-enqueue").chosen());
        assertEquals("tracepoint/qdisc/qdisc_dequeue", r.get("tx-qdisc-dequeue").chosen());
        assertEquals("tracepoint/net/net_dev_start_xmit", r.get("tx-xmit").chosen());
    }

    @Test
    void javaMirrorsMatchTheCompiledTxObject() {
        KernelTestSupport.requireKernel();
        LayerLayoutTest.assertLayoutsOf(KernelTestSupport.resource("/bpf/tx.bpf.o"));
    }
}
