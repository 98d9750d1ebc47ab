package io.microbpf.api.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.HookReport;
import io.microbpf.test.KernelTestSupport;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Hook fallback against the real kernel: the selftest object offers four hooks for one boundary. */
class HookFallbackKernelTest {
    static final AttachPoint STATE_CHANGE = AttachPoint.required("tcp-state-change",
            new HookCandidate("state_fentry", AttachKind.FENTRY, "fentry/tcp_set_state"),
            new HookCandidate("state_kprobe", AttachKind.KPROBE, "kprobe/tcp_set_state"),
            new HookCandidate("state_tp_btf", AttachKind.TP_BTF, "tp_btf/inet_sock_set_state"),
            new HookCandidate("state_tracepoint", AttachKind.TRACEPOINT, "tracepoint/sock/inet_sock_set_state"));

    @Test
    void theFirstHookThisKernelAcceptsIsChosenAndItReallyFires() throws Exception {
        KernelTestSupport.requireKernel();
        byte[] elf = KernelTestSupport.resource("/bpf/selftest.bpf.o");
        HookSelector.Selection sel = HookSelector.select(List.of(STATE_CHANGE), new KernelHookTrial("selftest", elf, o -> { }));
        assertTrue(sel.complete(), sel.problem());
        HookReport report = sel.reports().get(0);
        System.out.println("hook report: " + report);
        // Whatever this kernel accepts, every candidate before the chosen one has a reason, and the
        // chosen one works: on our machines fentry (EPERM) and kprobe (no CONFIG_KPROBES) are rejected.
        int chosenIndex = indexOf(report.chosen());
        assertEquals(chosenIndex, report.rejected().size(), "one reason per rejected candidate");
        for (int i = 0; i < chosenIndex; i++) {
            String reason = report.rejected().get(i);
            assertTrue(reason.startsWith(STATE_CHANGE.candidates().get(i).hook() + ": "), reason);
            assertTrue(reason.length() > STATE_CHANGE.candidates().get(i).hook().length() + 10, "reason says why: " + reason);
        }
        HookCandidate chosen = sel.chosen().get("tcp-state-change");
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of(chosen.program()));
            obj.load();
            BpfLink link = obj.attach(chosen.program(), chosen.kind());
            assertEquals(chosen.hook(), link.hook());
            try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
                    Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    Socket accepted = server.accept()) {
                client.getOutputStream().write(1);
                accepted.getInputStream().read();
            }
            Btf.Var counters = obj.btf().datasecVar(".bss", "state_changes");
            byte[] bss = obj.map(".bss").lookup(new byte[4]);
            long fired = Bytes.u64At(bss, counters.offset() + 8 * chosenIndex);
            assertTrue(fired >= 4, "state changes seen through " + chosen.hook() + ": " + fired);
        }
    }

    private static int indexOf(String hook) {
        for (int i = 0; i < STATE_CHANGE.candidates().size(); i++) {
            if (STATE_CHANGE.candidates().get(i).hook().equals(hook)) {
                return i;
            }
        }
        throw new AssertionError("unknown hook " + hook);
    }
}
