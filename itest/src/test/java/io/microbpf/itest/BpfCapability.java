package io.microbpf.itest;

import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.Assume;

/**
 * Whether this JVM (the Karaf container) can load and attach BPF programs. Without it the real-kernel
 * tests are skipped on a developer machine, and fail when the build runs with CI=true: in CI the
 * real tests must run, a missing capability is an error, not a reason to skip.
 */
final class BpfCapability {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;

    private BpfCapability() {}

    static void require() {
        List<String> missing = missing();
        if (missing.isEmpty()) {
            return;
        }
        String message = "no BPF capability in the Karaf JVM: " + String.join("; ", missing);
        if (inCi()) {
            fail(message + " (CI=true: real-kernel tests must run; run as root on a kernel with BPF and BTF)");
        }
        Assume.assumeTrue(message + " (skipped; with CI=true this fails)", false);
    }

    /** CI=true in the environment, or as told by the driver to the container (microbpf.itest.ci). */
    static boolean inCi() {
        return Boolean.getBoolean("microbpf.itest.ci") || "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            missing.add("not Linux");
            return missing;
        }
        if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
            missing.add("no kernel BTF at /sys/kernel/btf/vmlinux");
        }
        long caps = effectiveCapabilities();
        boolean admin = has(caps, CAP_SYS_ADMIN);
        if (!admin && !(has(caps, CAP_BPF) && has(caps, CAP_PERFMON))) {
            missing.add(String.format("effective capabilities 0x%x have neither CAP_SYS_ADMIN nor CAP_BPF+CAP_PERFMON", caps));
        }
        return missing;
    }

    private static boolean has(long caps, int bit) {
        return (caps & (1L << bit)) != 0;
    }

    private static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
