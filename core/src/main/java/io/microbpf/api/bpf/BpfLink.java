package io.microbpf.api.bpf;

import com.sun.jna.Pointer;
import io.microbpf.core.internal.jna.LibBpf;

/**
 * An attached program. Owner: the {@link BpfObject} that attached it (closed with it), or whoever
 * calls {@link #close()} first. Forgetting to close a link leaves the program attached: a bug.
 */
public final class BpfLink implements AutoCloseable {
    private final String hook;
    private Pointer link;

    BpfLink(String hook, Pointer link) {
        this.hook = hook;
        this.link = link;
    }

    /** The hook this link serves, e.g. {@code tp_btf/inet_sock_set_state}. */
    public String hook() {
        return hook;
    }

    public synchronized boolean isOpen() {
        return link != null;
    }

    @Override
    public synchronized void close() {
        if (link != null) {
            LibBpf.INSTANCE.bpf_link__destroy(link);
            link = null;
        }
    }
}
