package io.microbpf.collector.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An {@link AgentMain} JVM started inside a network namespace with {@code ip netns exec}. Its log
 * (stderr) goes to a file under target/. Owner: the test; {@link #close()} asks it to quit and
 * destroys it if it does not.
 */
final class AgentProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    final Path log;

    AgentProcess(String name, String netns, List<String> args) throws IOException, InterruptedException {
        this.name = name;
        this.log = Path.of("target", "agent-" + name + ".log");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-cp", System.getProperty("java.class.path"), AgentMain.class.getName()));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        long deadline = System.currentTimeMillis() + 60_000;
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("READY")) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                break;
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("agent " + name + " did not start; see " + log.toAbsolutePath() + ":\n" + tail());
    }

    /** Sends one command and returns its RESULT as JSON. */
    synchronized JsonNode ask(String command) throws IOException {
        in.write(command + "\n");
        in.flush();
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("RESULT ")) {
                return JSON.readTree(line.substring(7));
            }
        }
        throw new IllegalStateException("agent " + name + " exited; see " + log.toAbsolutePath() + ":\n" + tail());
    }

    String tail() {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** CPU time (user + system) the agent's JVM used so far, in ms (from /proc of the java child). */
    long cpuMs() {
        long total = 0;
        for (ProcessHandle h : process.descendants().toList()) {
            total += h.info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(0L);
        }
        return total + process.info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(0L);
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                ask("quit");
            }
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | RuntimeException | InterruptedException e) {
            // fall through to destroy
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

}
