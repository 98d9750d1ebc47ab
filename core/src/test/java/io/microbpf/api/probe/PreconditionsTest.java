package io.microbpf.api.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks against a fake /proc and /sys tree. */
class PreconditionsTest {
    @TempDir
    Path root;

    private void fake(String uid, String capEff, boolean btf, boolean tracefs) throws Exception {
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/self/status"), "Name:\tjava\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid
                + "\nCapEff:\t" + capEff + "\n");
        if (btf) {
            Files.createDirectories(root.resolve("sys/kernel/btf"));
            Files.writeString(root.resolve("sys/kernel/btf/vmlinux"), "x");
        }
        if (tracefs) {
            Files.createDirectories(root.resolve("sys/kernel/tracing/events"));
        }
    }

    @Test
    void rootWithBtfAndTracefsPasses() throws Exception {
        fake("0", "000001ffffffffff", true, true);
        Preconditions.Result r = new Preconditions(root, p -> "must not be called", l -> null).check();
        assertEquals(List.of(), r.fatal());
        assertEquals(List.of(), r.warnings());
    }

    @Test
    void anUnprivilegedUserGetsOneClearLine() throws Exception {
        fake("1000", "0000000000000000", true, true);
        Preconditions.Result r = new Preconditions(root, p -> null, l -> null).check();
        assertEquals(1, r.fatal().size());
        assertTrue(r.fatal().get(0).startsWith("insufficient privileges: run the agent as root, or grant CAP_BPF and CAP_PERFMON"), r.fatal().get(0));
    }

    @Test
    void capBpfAndPerfmonWithoutRootAreEnough() throws Exception {
        fake("1000", Long.toHexString((1L << 39) | (1L << 38) | (1L << 12)), true, true);
        assertTrue(new Preconditions(root, p -> null, l -> null).check().ok());
    }

    @Test
    void missingBtfAndLibbpfAreFatalAndSaySo() throws Exception {
        fake("0", "000001ffffffffff", false, true);
        Preconditions.Result r = new Preconditions(root, p -> null, l -> "UnsatisfiedLinkError: libbpf.so").check();
        assertEquals(List.of(
                "kernel BTF missing at /sys/kernel/btf/vmlinux: needs Linux >= 5.8 built with CONFIG_DEBUG_INFO_BTF=y",
                "libbpf cannot be loaded (UnsatisfiedLinkError: libbpf.so): install it with apt-get install -y libbpf1"), r.fatal());
    }

    @Test
    void tracefsIsMountedWhenMissingAndAFailedMountIsOnlyAWarning() throws Exception {
        fake("0", "000001ffffffffff", true, false);
        List<Path> mounted = new java.util.ArrayList<>();
        Preconditions.Result ok = new Preconditions(root, p -> {
            mounted.add(p);
            return null;
        }, l -> null).check();
        assertEquals(List.of(root.resolve("sys/kernel/tracing")), mounted);
        assertTrue(ok.ok() && ok.warnings().isEmpty());
        Preconditions.Result failed = new Preconditions(root, p -> "EPERM (Operation not permitted)", l -> null).check();
        assertTrue(failed.ok());
        assertEquals(List.of("tracefs is not mounted at /sys/kernel/tracing and mounting it failed (EPERM (Operation not permitted)):"
                + " classic tracepoint hooks are unavailable"), failed.warnings());
    }
}
