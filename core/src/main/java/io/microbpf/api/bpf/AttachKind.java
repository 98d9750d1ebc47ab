package io.microbpf.api.bpf;

/** How a program is attached; the section name of the program must agree. */
public enum AttachKind {
    /** fentry/fexit on a kernel function (BTF trampoline). */
    FENTRY(false),
    /** kprobe/kretprobe on a kernel function. */
    KPROBE(false),
    /** BTF-typed tracepoint ({@code tp_btf/<name>}). */
    TP_BTF(false),
    /** Classic tracepoint ({@code tracepoint/<category>/<name>}), needs tracefs. */
    TRACEPOINT(false),
    /** Raw tracepoint ({@code raw_tracepoint/<name>}). */
    RAW_TRACEPOINT(false),
    /** sockops program on the cgroup v2 root. */
    SOCKOPS(true),
    /** cgroup_skb/ingress on the cgroup v2 root. */
    CGROUP_SKB_INGRESS(true),
    /** cgroup_skb/egress on the cgroup v2 root. */
    CGROUP_SKB_EGRESS(true);

    private final boolean cgroup;

    AttachKind(boolean cgroup) {
        this.cgroup = cgroup;
    }

    /** Whether the program attaches to a cgroup rather than by its section name. */
    public boolean cgroup() {
        return cgroup;
    }
}
