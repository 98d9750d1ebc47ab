package io.microbpf.test;

import com.sun.jna.Native;
import io.microbpf.core.internal.jna.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Test "hosts": network namespaces made with iproute2, joined by veth pairs. Work runs inside a
 * namespace on a dedicated thread that entered it with setns(2); sockets it creates belong there.
 * Owner: the test; {@link #close()} deletes the namespaces (and with them their veth ends).
 */
public final class NetNs implements AutoCloseable {
    private final String name;
    private final ExecutorService thread;

    private NetNs(String name) {
        this.name = name;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(() -> {
                enter(name);
                r.run();
            }, "netns-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Creates namespace {@code name} with loopback up (deleting a stale one first). */
    public static NetNs create(String name) {
        run("ip", "netns", "del", name).ignoreFailure();
        run("ip", "netns", "add", name).check();
        run("ip", "-n", name, "link", "set", "lo", "up").check();
        return new NetNs(name);
    }

    /** Joins two namespaces with a veth pair and gives each end an address (CIDR, e.g. 10.200.1.1/24). */
    public static void link(NetNs a, String addrA, NetNs b, String addrB) {
        String ifA = "v" + Math.abs(a.name.hashCode() % 100000) + "a";
        String ifB = "v" + Math.abs(b.name.hashCode() % 100000) + "b";
        run("ip", "link", "add", ifA, "netns", a.name, "type", "veth", "peer", "name", ifB, "netns", b.name).check();
        run("ip", "-n", a.name, "addr", "add", addrA, "dev", ifA).check();
        run("ip", "-n", b.name, "addr", "add", addrB, "dev", ifB).check();
        run("ip", "-n", a.name, "link", "set", ifA, "up").check();
        run("ip", "-n", b.name, "link", "set", ifB, "up").check();
    }

    public String name() {
        return name;
    }

    /** The namespace's inode, as the kernel reports it in net->ns.inum. */
    public long inode() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/var/run/netns", name), "unix:ino")).longValue();
    }

    /** Runs {@code work} on this namespace's thread. */
    public <T> Future<T> submit(Callable<T> work) {
        return thread.submit(work);
    }

    private static void enter(String name) {
        int fd = LibC.INSTANCE.open("/var/run/netns/" + name, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0 || LibC.INSTANCE.setns(fd, LibC.CLONE_NEWNET) != 0) {
            throw new IllegalStateException("cannot enter netns " + name + ": errno " + Native.getLastError());
        }
        LibC.INSTANCE.close(fd);
    }

    @Override
    public void close() {
        thread.shutdownNow();
        run("ip", "netns", "del", name).ignoreFailure();
    }

    /** Result of a command. */
    public record Cmd(List<String> argv, int exit, String output) {
        public Cmd check() {
            if (exit != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " failed (" + exit + "): " + output);
            }
            return this;
        }

        public Cmd ignoreFailure() {
            return this;
        }
    }

    /** Runs a command, waiting at most 30 s. */
    public static Cmd run(String... argv) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(List.of(argv))).redirectErrorStream(true).start();
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Cmd(List.of(argv), -1, "timed out");
            }
            return new Cmd(List.of(argv), p.exitValue(), new String(p.getInputStream().readAllBytes()).strip());
        } catch (IOException e) {
            return new Cmd(List.of(argv), -1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Cmd(List.of(argv), -1, "interrupted");
        }
    }
}
