package io.microbpf.itest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;

/** Runs Karaf shell commands in-process, the way KarafTestSupport#executeCommand does. */
final class KarafShell {
    private final SessionFactory sessionFactory;

    KarafShell(SessionFactory sessionFactory) {
        this.sessionFactory = sessionFactory;
    }

    /** Executes one command line and returns what it printed (stdout and stderr). */
    String execute(String command, long timeout, TimeUnit unit) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (Session session = sessionFactory.create(new ByteArrayInputStream(new byte[0]), out, out)) {
            Future<Object> result = executor.submit(() -> session.execute(command));
            Object value;
            try {
                value = result.get(timeout, unit);
            } catch (ExecutionException e) {
                throw new AssertionError("'" + command + "' failed: " + e.getCause() + "\noutput:\n" + text(out, bytes), e.getCause());
            } catch (TimeoutException e) {
                result.cancel(true);
                throw new AssertionError("'" + command + "' did not finish in " + timeout + " " + unit + "\noutput:\n" + text(out, bytes));
            }
            String printed = text(out, bytes);
            return value == null ? printed : printed + value;
        } finally {
            executor.shutdownNow();
        }
    }

    private static String text(PrintStream out, ByteArrayOutputStream bytes) {
        out.flush();
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
