package io.microbpf.collector.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The collector's own HTTP endpoint (the JDK's {@code com.sun.net.httpserver}): {@code POST <path>}
 * takes a push (204 when the whole batch was taken, 400 with one line saying why not, 413 when
 * larger than the limit), {@code GET <path>/../netlat} answers the current latency summaries as JSON.
 *
 * <p>Owner: the collector component; {@link #close()} stops the server and its two threads.
 */
final class PushEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    PushEndpoint(String address, int port, String path, long maxBodyBytes, PushIngest ingest,
            Supplier<byte[]> netlatJson) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, port), 64);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "microbpf-collector-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext(path, x -> {
            try (x) {
                if (!"POST".equals(x.getRequestMethod())) {
                    ingest.refused();
                    reply(x, 405, "POST a push here\n");
                    return;
                }
                byte[] body = readLimited(x.getRequestBody(), maxBodyBytes);
                if (body == null) {
                    ingest.refused();
                    reply(x, 413, "push larger than max.body.bytes=" + maxBodyBytes + "\n");
                    return;
                }
                PushIngest.Result r = ingest.ingest(body);
                if (r.accepted()) {
                    x.sendResponseHeaders(204, -1);
                } else {
                    reply(x, 400, r.error() + "\n");
                }
            }
        });
        String base = path.endsWith("/push") ? path.substring(0, path.length() - "/push".length()) : path;
        server.createContext(base + "/netlat", x -> {
            try (x) {
                byte[] json = netlatJson.get();
                x.getResponseHeaders().add("Content-Type", "application/json");
                x.sendResponseHeaders(200, json.length);
                x.getResponseBody().write(json);
            }
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static byte[] readLimited(InputStream in, long max) throws IOException {
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        return b.length > max ? null : b;
    }

    private static void reply(HttpExchange x, int status, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
