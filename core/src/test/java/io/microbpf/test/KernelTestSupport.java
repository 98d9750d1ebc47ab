package io.microbpf.test;

import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Btf;
import io.microbpf.api.probe.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Shared by the real-kernel tests of every module. Outside CI a machine without BPF support skips
 * them; with {@code CI=true} it fails loudly, so CI can never pass without running them.
 */
public final class KernelTestSupport {
    private KernelTestSupport() {}

    /** Fails (CI) or aborts (elsewhere) the calling test unless this machine can load BPF programs. */
    public static void requireKernel() {
        Preconditions.Result r;
        try {
            r = Preconditions.checkSystem();
        } catch (Throwable t) {
            r = new Preconditions.Result(java.util.List.of("cannot check: " + t), java.util.List.of());
        }
        if (r.ok()) {
            return;
        }
        String why = "real-kernel test needs BPF: " + String.join("; ", r.fatal());
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(why + " (CI=true: missing kernel capability is a failure)");
        }
        Assumptions.abort(why);
    }

    /** Reads a compiled object from the test classpath, e.g. {@code /bpf/selftest.bpf.o}. */
    public static byte[] resource(String path) {
        try (InputStream in = KernelTestSupport.class.getResourceAsStream(path)) {
            Assertions.assertNotNull(in, path + " not on the classpath: was the BPF build step run?");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Asserts that a Java mirror's field offsets and size equal the C struct's layout as compiled
     * into the object's BTF (every C member must be mirrored, at the same offset).
     */
    public static void assertLayout(byte[] elf, String struct, Map<String, Integer> javaOffsets, int javaSize) {
        try (BpfObject obj = BpfObject.open("layout", elf)) {
            Btf.StructLayout c = obj.btf().struct(struct);
            Assertions.assertEquals(c.size(), javaSize, "sizeof(struct " + struct + ")");
            Assertions.assertEquals(c.offsets(), javaOffsets, "offsets of struct " + struct + " members");
        }
    }
}
