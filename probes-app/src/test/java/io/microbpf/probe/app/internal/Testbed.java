package io.microbpf.probe.app.internal;

import io.microbpf.test.NetNs;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two test hosts joined by a veth pair: {@code client} (10.230.N.1, fd10:230:N::1) and {@code server}
 * (10.230.N.2, fd10:230:N::2), within this engineer's namespace prefix and subnets. Owner: the test;
 * {@link #close()} deletes both namespaces (and the veth pair with them).
 */
final class Testbed implements AutoCloseable {
    private static final AtomicInteger NEXT = new AtomicInteger(1);
    final NetNs client;
    final NetNs server;
    final int subnet;

    private Testbed(NetNs client, NetNs server, int subnet) {
        this.client = client;
        this.server = server;
        this.subnet = subnet;
    }

    /** Creates the pair; names are app-PID-N-c / -s (PID mod 100000 keeps interface names short). */
    static Testbed create() {
        int n = NEXT.getAndIncrement();
        int subnet = (int) (ProcessHandle.current().pid() % 200) + n; // 10.230.x.0/24, distinct per run and bed
        String tag = "app-" + (ProcessHandle.current().pid() % 100000) + "-" + n;
        NetNs c = NetNs.create(tag + "-c");
        NetNs s = null;
        try {
            s = NetNs.create(tag + "-s");
            NetNs.link(c, "10.230." + subnet + ".1/24", s, "10.230." + subnet + ".2/24");
            addV6(c, "fd10:230:" + subnet + "::1/64");
            addV6(s, "fd10:230:" + subnet + "::2/64");
            return new Testbed(c, s, subnet);
        } catch (RuntimeException e) {
            c.close();
            if (s != null) {
                s.close();
            }
            throw e;
        }
    }

    /** An IPv6 address on the namespace's veth end, usable at once (no duplicate address detection). */
    private static void addV6(NetNs ns, String cidr) {
        String links = NetNs.run("ip", "-n", ns.name(), "-o", "link", "show", "type", "veth").check().output();
        String dev = links.split(":")[1].strip().split("@")[0];
        NetNs.run("ip", "-n", ns.name(), "addr", "add", cidr, "dev", dev, "nodad").check();
    }

    InetAddress serverAddress(boolean v6) throws Exception {
        return InetAddress.getByName(v6 ? "fd10:230:" + subnet + "::2" : "10.230." + subnet + ".2");
    }

    InetAddress clientAddress(boolean v6) throws Exception {
        return InetAddress.getByName(v6 ? "fd10:230:" + subnet + "::1" : "10.230." + subnet + ".1");
    }

    @Override
    public void close() {
        client.close();
        server.close();
    }
}
