package io.microbpf.probe.rx.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.HookReport;
import io.microbpf.api.bpf.AttachKind;
import io.microbpf.api.bpf.HookSelector;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The rx probe's hook lists under a fake kernel (HookSelector.Trial): which fallback serves each boundary. */
class RxHookFallbackTest {
    private static Map<String, HookReport> select(HookSelector.Trial trial) {
        HookSelector.Selection sel = HookSelector.select(RxProbeComponent.hookLists(), trial);
        assertTrue(sel.complete(), sel.problem());
        return sel.reports().stream().collect(Collectors.toMap(HookReport::attachPoint, r -> r));
    }

    @Test
    void whereFentryIsRefusedTheBtfTracepointsAndTheCgroupHookServeAndTheRefusalIsReported() {
        Map<String, HookReport> r = select((p, c) -> c.kind() == AttachKind.FENTRY
                ? Optional.of("load of rx failed: EPERM (Operation not permitted)") : Optional.empty());
        assertEquals("tp_btf/netif_rx_entry", r.get("rx-mac-start").chosen());
        assertEquals("tp_btf/netif_receive_skb", r.get("rx-ip-start").chosen());
        assertEquals("cgroup_skb/ingress", r.get("rx-tcp-start").chosen());
        assertEquals("tp_btf/skb_copy_datagram_iovec", r.get("rx-app-copy").chosen());
        assertNull(r.get("rx-ip6-start").chosen(), "optional, fentry only: unserved, the tracepoint covers IPv6");
        for (String p : new String[] {"rx-mac-start", "rx-ip-start", "rx-ip6-start", "rx-tcp-start", "rx-tcp6-start", "rx-app-copy"}) {
            assertEquals(1, r.get(p).rejected().size(), r.get(p).toString());
            assertTrue(r.get(p).rejected().get(0).startsWith("fentry/") && r.get(p).rejected().get(0).contains("EPERM"),
                    r.get(p).toString());
        }
    }

    @Test
    void whereFentryWorksTheSeedsFunctionsServe() {
        Map<String, HookReport> r = select((p, c) -> Optional.empty());
        assertEquals("fentry/eth_type_trans", r.get("rx-mac-start").chosen());
        assertEquals("fentry/ip_rcv", r.get("rx-ip-start").chosen());
        assertEquals("fentry/ipv6_rcv", r.get("rx-ip6-start").chosen());
        assertEquals("fentry/tcp_v4_rcv", r.get("rx-tcp-start").chosen());
        assertEquals("fentry/skb_copy_datagram_iter", r.get("rx-app-copy").chosen());
    }

    @Test
    void withoutBtfTracepointsOrCgroupsTheClassicTracepointsServe() {
        Map<String, HookReport> r = select((p, c) -> c.kind() == AttachKind.TRACEPOINT ? Optional.empty()
                : Optional.of(c.kind() + " refused"));
        assertEquals("tracepoint/net/netif_rx_entry", r.get("rx-mac-start").chosen());
        assertEquals("tracepoint/net/netif_receive_skb", r.get("rx-ip-start").chosen());
        assertEquals("tracepoint/tcp/tcp_probe", r.get("rx-tcp-start").chosen());
        assertEquals(3, r.get("rx-tcp-start").rejected().size(), r.get("rx-tcp-start").toString());
        assertEquals("tracepoint/skb/skb_copy_datagram_iovec", r.get("rx-app-copy").chosen());
    }
}
