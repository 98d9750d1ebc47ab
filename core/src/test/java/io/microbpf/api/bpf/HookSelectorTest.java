package io.microbpf.api.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.HookReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The choice logic with a fake kernel: which candidates "load" is decided by the test. */
class HookSelectorTest {
    private static final HookCandidate FENTRY = new HookCandidate("rx_fentry", AttachKind.FENTRY, "fentry/ip_rcv");
    private static final HookCandidate TP = new HookCandidate("rx_tp", AttachKind.TP_BTF, "tp_btf/netif_receive_skb");
    private static final HookCandidate SKB = new HookCandidate("rx_skb", AttachKind.CGROUP_SKB_INGRESS, "cgroup_skb/ingress");

    /** A kernel that rejects the given programs with the given reason and records what was tried. */
    private static final class FakeKernel implements HookSelector.Trial {
        final Set<String> rejects;
        final List<String> tried = new ArrayList<>();

        FakeKernel(String... rejects) {
            this.rejects = Set.of(rejects);
        }

        @Override
        public Optional<String> attempt(AttachPoint point, HookCandidate c) {
            tried.add(c.program());
            return rejects.contains(c.program()) ? Optional.of("load failed: EPERM (Operation not permitted)") : Optional.empty();
        }
    }

    @Test
    void fentryRejectedFallsBackToTheNextCandidateAndSaysWhy() {
        FakeKernel kernel = new FakeKernel("rx_fentry");
        HookSelector.Selection s = HookSelector.select(List.of(AttachPoint.required("rx-ip", FENTRY, TP, SKB)), kernel);
        assertTrue(s.complete());
        assertEquals(TP, s.chosen().get("rx-ip"));
        assertEquals(List.of(new HookReport("rx-ip", "tp_btf/netif_receive_skb",
                List.of("fentry/ip_rcv: load failed: EPERM (Operation not permitted)"))), s.reports());
        assertEquals(List.of("rx_fentry", "rx_tp"), kernel.tried, "stops at the first that works");
    }

    @Test
    void thePreferredHookIsUsedWhenTheKernelAllowsIt() {
        HookSelector.Selection s = HookSelector.select(List.of(AttachPoint.required("rx-ip", FENTRY, TP)), new FakeKernel());
        assertEquals(FENTRY, s.chosen().get("rx-ip"));
        assertTrue(s.reports().get(0).rejected().isEmpty());
    }

    @Test
    void aRequiredPointWithNoWorkingHookMakesTheSelectionIncompleteWithEveryReason() {
        HookSelector.Selection s = HookSelector.select(List.of(AttachPoint.required("rx-ip", FENTRY, TP)),
                new FakeKernel("rx_fentry", "rx_tp"));
        assertFalse(s.complete());
        assertNull(s.reports().get(0).chosen());
        assertEquals("no hook for rx-ip: fentry/ip_rcv: load failed: EPERM (Operation not permitted) | "
                + "tp_btf/netif_receive_skb: load failed: EPERM (Operation not permitted)", s.problem());
    }

    @Test
    void anOptionalPointWithNoWorkingHookIsReportedButDoesNotBlock() {
        HookSelector.Selection s = HookSelector.select(List.of(
                AttachPoint.required("rx-ip", TP), AttachPoint.optional("rx-mac", FENTRY)), new FakeKernel("rx_fentry"));
        assertTrue(s.complete());
        assertEquals(2, s.reports().size());
        assertNull(s.reports().get(1).chosen());
        assertFalse(s.chosen().containsKey("rx-mac"));
    }

    @Test
    void aTrialThatThrowsCountsAsARejectionNotACrash() {
        HookSelector.Selection s = HookSelector.select(List.of(AttachPoint.required("rx-ip", FENTRY, TP)), (p, c) -> {
            if (c == FENTRY) {
                throw new IllegalStateException("verifier exploded");
            }
            return Optional.empty();
        });
        assertEquals(TP, s.chosen().get("rx-ip"));
        assertEquals(List.of("fentry/ip_rcv: verifier exploded"), s.reports().get(0).rejected());
    }
}
