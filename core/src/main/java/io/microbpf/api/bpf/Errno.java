package io.microbpf.api.bpf;

import java.util.Map;

/** Names and text for the errno values libbpf and the kernel return. */
public final class Errno {
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(3, "ESRCH"), Map.entry(4, "EINTR"),
            Map.entry(7, "E2BIG"), Map.entry(9, "EBADF"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"),
            Map.entry(14, "EFAULT"), Map.entry(16, "EBUSY"), Map.entry(17, "EEXIST"), Map.entry(19, "ENODEV"),
            Map.entry(22, "EINVAL"), Map.entry(24, "EMFILE"), Map.entry(28, "ENOSPC"), Map.entry(95, "EOPNOTSUPP"),
            Map.entry(524, "ENOTSUPP"), Map.entry(38, "ENOSYS"), Map.entry(61, "ENODATA"));

    private Errno() {}

    /** {@code "EPERM (Operation not permitted)"}; accepts negative values as libbpf returns them. */
    public static String describe(int errno) {
        int e = Math.abs(errno);
        String name = NAMES.getOrDefault(e, "errno " + e);
        String text;
        try {
            text = io.microbpf.core.internal.jna.LibC.INSTANCE.strerror(e);
        } catch (Throwable t) {
            text = null;
        }
        return text == null ? name : name + " (" + text + ")";
    }
}
