package io.microbpf.probe.nic.test;

import io.microbpf.test.NetNs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Three test "hosts" in a line, client - router - server, each a network namespace joined by veth
 * pairs, with IPv4 routing through the router: client {@code 10.240.N.1/24} (device {@code <p>c0}),
 * router {@code 10.240.N.254} ({@code <p>r0}) and {@code 10.240.N+1.254} ({@code <p>r1}), server
 * {@code 10.240.N+1.1/24} ({@code <p>s0}). All three share the machine's kernel and its clock.
 * Owner: the test; {@link #close()} deletes the namespaces, and with them devices and qdiscs.
 */
public final class ThreeHosts implements AutoCloseable {
    public final NetNs client;
    public final NetNs router;
    public final NetNs server;
    public final String clientIp;
    public final String serverIp;
    public final String clientDev;
    public final String routerToClientDev;
    public final String routerToServerDev;
    public final String serverDev;

    /**
     * @param prefix namespace name prefix (must start with {@code nl-}); devices use {@code devPrefix}
     * @param subnet N: the client link is 10.240.N.0/24, the server link 10.240.N+1.0/24
     */
    public ThreeHosts(String prefix, String devPrefix, int subnet) {
        if (!prefix.startsWith("nl-") || devPrefix.length() > 12) {
            throw new IllegalArgumentException("namespaces start with nl-, device prefixes are short");
        }
        client = NetNs.create(prefix + "client");
        router = NetNs.create(prefix + "router");
        server = NetNs.create(prefix + "server");
        clientDev = devPrefix + "c0";
        routerToClientDev = devPrefix + "r0";
        routerToServerDev = devPrefix + "r1";
        serverDev = devPrefix + "s0";
        String a = "10.240." + subnet + ".";
        String b = "10.240." + (subnet + 1) + ".";
        clientIp = a + "1";
        serverIp = b + "1";
        try {
            veth(client, clientDev, a + "1/24", router, routerToClientDev, a + "254/24");
            veth(server, serverDev, b + "1/24", router, routerToServerDev, b + "254/24");
            NetNs.run("ip", "-n", client.name(), "route", "add", "default", "via", a + "254").check();
            NetNs.run("ip", "-n", server.name(), "route", "add", "default", "via", b + "254").check();
            NetNs.run("ip", "netns", "exec", router.name(), "sysctl", "-qw", "net.ipv4.ip_forward=1").check();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void veth(NetNs x, String devX, String addrX, NetNs y, String devY, String addrY) {
        NetNs.run("ip", "link", "add", devX, "netns", x.name(), "type", "veth", "peer", "name", devY, "netns", y.name())
                .check();
        NetNs.run("ip", "-n", x.name(), "addr", "add", addrX, "dev", devX).check();
        NetNs.run("ip", "-n", y.name(), "addr", "add", addrY, "dev", devY).check();
        NetNs.run("ip", "-n", x.name(), "link", "set", devX, "up").check();
        NetNs.run("ip", "-n", y.name(), "link", "set", devY, "up").check();
    }

    /** The ifindex of a device inside a namespace. */
    public static int ifindex(NetNs ns, String dev) {
        String out = NetNs.run("ip", "-n", ns.name(), "-o", "link", "show", dev).check().output();
        return Integer.parseInt(out.substring(0, out.indexOf(':')).strip());
    }

    /** Shapes the router's egress towards the server with a token bucket (a real queue). */
    public void shapeTowardsServer(String rate, String burst, String latency) {
        NetNs.run("tc", "-n", router.name(), "qdisc", "replace", "dev", routerToServerDev, "root", "tbf", "rate", rate,
                "burst", burst, "latency", latency).check();
    }

    public void unshape() {
        NetNs.run("tc", "-n", router.name(), "qdisc", "del", "dev", routerToServerDev, "root").ignoreFailure();
    }

    public static long inode(NetNs ns) {
        try {
            return ((Number) Files.getAttribute(Path.of("/var/run/netns", ns.name()), "unix:ino")).longValue();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        client.close();
        router.close();
        server.close();
    }
}
