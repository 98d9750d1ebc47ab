package io.microbpf.probe.app.internal;

import io.microbpf.test.NetNs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A program run inside a test namespace with {@code ip netns exec}. Owner: the test;
 * {@link #close()} terminates it and every process it started (nginx's workers), then waits.
 */
final class NetNsExec implements AutoCloseable {
    record Result(int exit, String output) {}

    private final Process process;
    private final NetNs ns;

    private NetNsExec(Process process, NetNs ns) {
        this.process = process;
        this.ns = ns;
    }

    static String which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").concat(":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool).toString();
            }
        }
        return null;
    }

    static NetNsExec start(NetNs ns, String... argv) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name()));
        cmd.addAll(List.of(argv));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return new NetNsExec(p, ns);
    }

    /** Runs to completion (at most timeoutS seconds) and returns exit code and output. */
    static Result run(NetNs ns, long timeoutS, String... argv) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name()));
        cmd.addAll(List.of(argv));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[][] out = new byte[1][];
        Thread reader = new Thread(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = e.toString().getBytes();
            }
        });
        reader.start();
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(5000);
            throw new IllegalStateException(String.join(" ", argv) + " did not finish within " + timeoutS + " s");
        }
        reader.join(5000);
        return new Result(p.exitValue(), new String(out[0] == null ? new byte[0] : out[0]));
    }

    /** Waits until something accepts TCP connections on port inside the namespace. */
    void awaitListening(int port, long timeoutMs, Path errorLog) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            String ss = NetNs.run("ip", "netns", "exec", ns.name(), "ss", "-Hltn", "sport", "= :" + port).output();
            if (!ss.isBlank()) {
                return;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        String log = Files.exists(errorLog) ? Files.readString(errorLog) : "(no error log)";
        throw new IllegalStateException("nothing listens on port " + port + " in " + ns.name() + ": " + log);
    }

    @Override
    public void close() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        process.destroy();
        all.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            for (ProcessHandle h : all) {
                h.onExit().get(5, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            all.forEach(ProcessHandle::destroyForcibly);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

}
