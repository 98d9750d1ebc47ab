package io.microbpf.api.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What the kernel and the process must offer before any probe loads: privileges, BTF, libbpf, and
 * tracefs (mounted here if it is missing and we may). Each failure is one clear line.
 */
public final class Preconditions {
    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_ADMIN = 21;
    static final int CAP_PERFMON = 38;
    static final int CAP_BPF = 39;

    /**
     * @param fatal problems that stop every probe
     * @param warnings problems that only rule out some hooks (e.g. classic tracepoints without tracefs)
     */
    public record Result(List<String> fatal, List<String> warnings) {
        public boolean ok() {
            return fatal.isEmpty();
        }
    }

    private final Path root;
    private final Function<Path, String> mountTracefs;
    private final Function<String, String> libraryCheck;

    /**
     * @param root file system root ("/" in production; a fake tree in tests)
     * @param mountTracefs mounts tracefs at the path; returns null on success, else why it failed
     * @param libraryCheck loads a native library by name; returns null on success, else why not
     */
    public Preconditions(Path root, Function<Path, String> mountTracefs, Function<String, String> libraryCheck) {
        this.root = root;
        this.mountTracefs = mountTracefs;
        this.libraryCheck = libraryCheck;
    }

    /** Checks the real machine. */
    public static Result checkSystem() {
        return new Preconditions(Path.of("/"), Preconditions::mount, Preconditions::loadLibbpf).check();
    }

    public Result check() {
        List<String> fatal = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        String status = read(root.resolve("proc/self/status"));
        long euid = field(status, "Uid:", 1, 10);
        long caps = field(status, "CapEff:", 0, 16);
        boolean canBpf = euid == 0 || (has(caps, CAP_BPF) && has(caps, CAP_PERFMON)) || has(caps, CAP_SYS_ADMIN);
        if (!canBpf) {
            fatal.add("insufficient privileges: run the agent as root, or grant CAP_BPF and CAP_PERFMON (euid "
                    + euid + ", CapEff " + Long.toHexString(Math.max(caps, 0)) + ")");
        } else if (euid != 0 && !has(caps, CAP_NET_ADMIN)) {
            warnings.add("no CAP_NET_ADMIN: cgroup and sockops hooks will be rejected");
        }
        if (!Files.exists(root.resolve("sys/kernel/btf/vmlinux"))) {
            fatal.add("kernel BTF missing at /sys/kernel/btf/vmlinux: needs Linux >= 5.8 built with CONFIG_DEBUG_INFO_BTF=y");
        }
        String lib = libraryCheck.apply("bpf");
        if (lib != null) {
            fatal.add("libbpf cannot be loaded (" + lib + "): install it with apt-get install -y libbpf1");
        }
        Path tracefs = root.resolve("sys/kernel/tracing");
        if (!Files.isDirectory(tracefs.resolve("events"))) {
            String why = mountTracefs.apply(tracefs);
            if (why != null) {
                warnings.add("tracefs is not mounted at /sys/kernel/tracing and mounting it failed (" + why
                        + "): classic tracepoint hooks are unavailable");
            }
        }
        return new Result(List.copyOf(fatal), List.copyOf(warnings));
    }

    private static boolean has(long caps, int cap) {
        return caps >= 0 && (caps & (1L << cap)) != 0;
    }

    /** The {@code index}-th number after {@code label} in /proc/self/status, or -1. */
    private static long field(String status, String label, int index, int radix) {
        for (String line : status.split("\n")) {
            if (line.startsWith(label)) {
                String[] parts = line.substring(label.length()).trim().split("\\s+");
                try {
                    return Long.parseUnsignedLong(parts[index], radix);
                } catch (RuntimeException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static String mount(Path target) {
        try {
            int rc = io.microbpf.core.internal.jna.LibC.INSTANCE.mount("tracefs", target.toString(), "tracefs", 0, null);
            if (rc != 0) {
                return io.microbpf.api.bpf.Errno.describe(com.sun.jna.Native.getLastError());
            }
            return Files.isDirectory(target.resolve("events")) ? null : "mounted but no events directory";
        } catch (Throwable t) {
            return t.toString();
        }
    }

    private static String loadLibbpf(String name) {
        try {
            io.microbpf.core.internal.jna.LibBpf.INSTANCE.libbpf_num_possible_cpus();
            return null;
        } catch (Throwable t) {
            return t.getClass().getSimpleName() + ": " + t.getMessage();
        }
    }
}
