package io.microbpf.api.bpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import io.microbpf.core.internal.jna.LibBpf;
import io.microbpf.core.internal.jna.LibC;

/**
 * A BPF iterator program ({@code SEC("iter/bpf_map_elem")}, {@code SEC("iter/bpf_sk_storage_map")}, ...)
 * attached to one map: each {@link #run()} walks every element of the map once in the kernel, e.g. to
 * merge per-socket state into another map. What the program prints is read and dropped.
 * <p>Owns one iterator link fd. Owner: the {@link BpfObject} that attached it, which closes it with
 * itself (before the object's maps and programs); it may be closed earlier.
 */
public final class BpfMapIterator implements AutoCloseable {
    private static final int BPF_TRACE_ITER = 28;
    private static final int EINTR = 4;

    private final String program;
    private final String map;
    private final Memory buf = new Memory(4096);
    private int linkFd;

    private BpfMapIterator(String program, String map, int linkFd) {
        this.program = program;
        this.map = map;
        this.linkFd = linkFd;
    }

    static BpfMapIterator attach(int progFd, String program, BpfMap target) {
        Memory linkInfo = new Memory(16); // union bpf_iter_link_info { struct { __u32 map_fd; } map; ... }
        linkInfo.clear();
        linkInfo.setInt(0, target.fd());
        Memory opts = new Memory(32);     // struct bpf_link_create_opts (libbpf 1.1), up to iter_info_len
        opts.clear();
        opts.setLong(0, 32);              // sz
        opts.setPointer(16, linkInfo);    // iter_info
        opts.setInt(24, 16);              // iter_info_len
        int fd = LibBpf.INSTANCE.bpf_link_create(progFd, 0, BPF_TRACE_ITER, opts);
        if (fd < 0) {
            throw new BpfException("cannot attach iterator " + program + " to map " + target.name() + ": " + Errno.describe(-fd), -fd);
        }
        return new BpfMapIterator(program, target.name(), fd);
    }

    /** Runs the program once over every element of the map (reads the iterator to its end). */
    public synchronized void run() {
        if (linkFd < 0) {
            throw new IllegalStateException("iterator " + program + " over " + map + " is closed");
        }
        int iterFd = LibBpf.INSTANCE.bpf_iter_create(linkFd);
        if (iterFd < 0) {
            throw new BpfException("cannot create an iterator from " + program + ": " + Errno.describe(-iterFd), -iterFd);
        }
        try {
            while (true) {
                long n = LibC.INSTANCE.read(iterFd, buf, buf.size());
                if (n == 0) {
                    return;
                }
                if (n < 0) {
                    int errno = Native.getLastError();
                    if (errno != EINTR) {
                        throw new BpfException("reading iterator " + program + " failed: " + Errno.describe(errno), errno);
                    }
                }
            }
        } finally {
            LibC.INSTANCE.close(iterFd);
        }
    }

    @Override
    public synchronized void close() {
        if (linkFd >= 0) {
            LibC.INSTANCE.close(linkFd);
            linkFd = -1;
        }
    }
}
