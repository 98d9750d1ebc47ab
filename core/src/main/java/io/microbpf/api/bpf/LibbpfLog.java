package io.microbpf.api.bpf;

import com.sun.jna.Pointer;
import io.microbpf.core.internal.jna.LibBpf;
import io.microbpf.core.internal.jna.LibC;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes libbpf's messages to SLF4J (debug) and keeps the last lines printed on each thread, so a
 * failed load or attach can say what libbpf and the verifier said.
 */
public final class LibbpfLog {
    private static final Logger LOG = LoggerFactory.getLogger("io.microbpf.libbpf");
    private static final int KEEP_LINES = 40;
    private static final ThreadLocal<Deque<String>> RECENT = ThreadLocal.withInitial(ArrayDeque::new);
    // kept in a static field: JNA callbacks must stay reachable while libbpf holds them
    private static final LibBpf.PrintFn PRINT = LibbpfLog::print;
    private static volatile boolean installed;

    private LibbpfLog() {}

    /** Installs the print callback once per class loader. */
    public static synchronized void install() {
        if (!installed) {
            LibBpf.INSTANCE.libbpf_set_print(PRINT);
            installed = true;
        }
    }

    /** Forgets what this thread's libbpf calls printed so far. */
    public static void clear() {
        RECENT.get().clear();
    }

    /** The libbpf lines printed on this thread since {@link #clear()}, oldest first. */
    public static List<String> recent() {
        return new ArrayList<>(RECENT.get());
    }

    /** The most telling libbpf line for a failure: the last one naming an error, else the last one. */
    public static String lastError() {
        List<String> lines = recent();
        for (int i = lines.size() - 1; i >= 0; i--) {
            String l = lines.get(i);
            if (l.contains("fail") || l.contains("error") || l.contains("Error") || l.contains("invalid")) {
                return l;
            }
        }
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    private static int print(int level, String format, Pointer vaList) {
        if (level > 1) {
            return 0; // debug chatter
        }
        byte[] buf = new byte[1024];
        int n = LibC.INSTANCE.vsnprintf(buf, buf.length, format, vaList);
        String line = new String(buf, 0, Math.max(0, Math.min(n, buf.length - 1))).strip();
        if (line.isEmpty()) {
            return 0;
        }
        Deque<String> recent = RECENT.get();
        if (recent.size() == KEEP_LINES) {
            recent.removeFirst();
        }
        recent.addLast(line);
        LOG.debug("{}", line);
        return 0;
    }
}
