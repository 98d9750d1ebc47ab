package io.microbpf.probe.layer;

import io.microbpf.test.NetNs;

/**
 * Two test hosts (network namespaces {@code lat-<tag>a} / {@code lat-<tag>b}) joined by a veth pair,
 * with IPv4 10.210.N.1/.2 and IPv6 fd10:210:N::1/::2 (no duplicate address detection, so IPv6 works
 * at once). Owner: the test; {@link #close()} deletes both namespaces, their veth ends and qdiscs.
 */
public final class LatNet implements AutoCloseable {
    public final NetNs a;
    public final NetNs b;
    public final String ifA;
    public final String ifB;
    public final String v4A;
    public final String v4B;
    public final String v6A;
    public final String v6B;

    private LatNet(NetNs a, NetNs b, String ifA, String ifB, int n) {
        this.a = a;
        this.b = b;
        this.ifA = ifA;
        this.ifB = ifB;
        this.v4A = "10.210." + n + ".1";
        this.v4B = "10.210." + n + ".2";
        this.v6A = "fd10:210:" + n + "::1";
        this.v6B = "fd10:210:" + n + "::2";
    }

    /** tag: ≤ 6 characters, unique per test class; n: 1..254, the subnet. */
    public static LatNet create(String tag, int n) {
        NetNs a = NetNs.create("lat-" + tag + "a");
        NetNs b;
        try {
            b = NetNs.create("lat-" + tag + "b");
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        String ifA = "lat" + tag + "a";
        String ifB = "lat" + tag + "b";
        LatNet net = new LatNet(a, b, ifA, ifB, n);
        try {
            NetNs.run("ip", "link", "add", ifA, "netns", a.name(), "type", "veth", "peer", "name", ifB, "netns", b.name()).check();
            NetNs.run("ip", "-n", a.name(), "addr", "add", net.v4A + "/24", "dev", ifA).check();
            NetNs.run("ip", "-n", b.name(), "addr", "add", net.v4B + "/24", "dev", ifB).check();
            NetNs.run("ip", "-n", a.name(), "addr", "add", net.v6A + "/64", "dev", ifA, "nodad").check();
            NetNs.run("ip", "-n", b.name(), "addr", "add", net.v6B + "/64", "dev", ifB, "nodad").check();
            NetNs.run("ip", "-n", a.name(), "link", "set", ifA, "up").check();
            NetNs.run("ip", "-n", b.name(), "link", "set", ifB, "up").check();
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    /** Runs {@code tc qdisc <verb> dev <a's veth> <args...>}, e.g. {@code qdiscA("replace", "root", "tbf", ...)}. */
    public void qdiscA(String verb, String... args) {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("tc", "-n", a.name(), "qdisc", verb, "dev", ifA));
        argv.addAll(java.util.List.of(args));
        NetNs.run(argv.toArray(new String[0])).check();
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
