package io.microbpf.probe.ack.internal;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.microbpf.api.bpf.BpfException;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.Errno;

/**
 * Runs the {@code merge_hot_flows} iterator (a bpf_iter over the {@code hot} sk_storage map), which
 * copies every tracked socket's hot counters (ACKs, reads, writes, RTT samples, the send queue's
 * write-time maximum) into its entry of the {@code flows} LRU map. Called right before each snapshot.
 * <p>Owns one iterator link fd; owned by {@link AckProbeComponent}, closed when the probe stops
 * (before its {@link BpfObject} is closed).
 */
final class HotStateMerger implements AutoCloseable {
    static final String PROGRAM = "merge_hot_flows";
    static final String MAP = "hot";

    /** The libbpf and libc calls this needs (not in core's bindings). */
    interface Lib extends Library {
        Lib BPF = Native.load("bpf", Lib.class);

        int bpf_link_create(int progFd, int targetFd, int attachType, Pointer opts);

        int bpf_iter_create(int linkFd);
    }

    interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        long read(int fd, Pointer buf, long count);

        int close(int fd);
    }

    private static final int BPF_TRACE_ITER = 28;
    private static final int EINTR = 4;
    private final Memory buf = new Memory(4096);
    private int linkFd;

    private HotStateMerger(int linkFd) {
        this.linkFd = linkFd;
    }

    /** Attaches the iterator program of a loaded object to its {@code hot} map. */
    static HotStateMerger attach(BpfObject obj) {
        int progFd = obj.programFd(PROGRAM);
        Memory linkInfo = new Memory(16); // union bpf_iter_link_info { struct { __u32 map_fd; } map; ... }
        linkInfo.clear();
        linkInfo.setInt(0, obj.map(MAP).fd());
        Memory opts = new Memory(32);     // struct bpf_link_create_opts (libbpf 1.1), up to target_btf_id
        opts.clear();
        opts.setLong(0, 32);              // sz
        opts.setPointer(16, linkInfo);    // iter_info
        opts.setInt(24, 16);              // iter_info_len
        int fd = Lib.BPF.bpf_link_create(progFd, 0, BPF_TRACE_ITER, opts);
        if (fd < 0) {
            throw new BpfException("cannot attach iterator " + PROGRAM + " to map " + MAP + ": " + Errno.describe(-fd), -fd);
        }
        return new HotStateMerger(fd);
    }

    /** Runs the iterator once over every tracked socket (one read() to end of file). */
    synchronized void run() {
        if (linkFd < 0) {
            throw new IllegalStateException("iterator " + PROGRAM + " is closed");
        }
        int iterFd = Lib.BPF.bpf_iter_create(linkFd);
        if (iterFd < 0) {
            throw new BpfException("cannot create an iterator from " + PROGRAM + ": " + Errno.describe(-iterFd), -iterFd);
        }
        try {
            while (true) {
                long n = C.INSTANCE.read(iterFd, buf, buf.size());
                if (n == 0) {
                    return;
                }
                if (n < 0) {
                    int errno = Native.getLastError();
                    if (errno == EINTR) {
                        continue;
                    }
                    throw new BpfException("reading iterator " + PROGRAM + " failed: " + Errno.describe(errno), errno);
                }
            }
        } finally {
            C.INSTANCE.close(iterFd);
        }
    }

    @Override
    public synchronized void close() {
        if (linkFd >= 0) {
            C.INSTANCE.close(linkFd);
            linkFd = -1;
        }
    }
}
