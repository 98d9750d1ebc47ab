package io.microbpf.sink.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Serves {@link Routes} at {@code /microbpf} with the JDK's HTTP server, for tests outside Karaf (the
 * servlet adapter is exercised by the Pax Exam test). Binds 127.0.0.1 on a port of this engineer's
 * range 22000-22999. Owner: the test; {@link #close()} stops it.
 */
final class TestHttpServer implements AutoCloseable {
    private final HttpServer server;

    TestHttpServer(Routes routes) throws IOException {
        server = bind();
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/microbpf", http -> {
            try {
                routes.handle(adapt(http));
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                http.close();
            }
        });
        server.start();
    }

    static HttpServer bind() throws IOException {
        for (int attempt = 0; ; attempt++) {
            int port = 22000 + ThreadLocalRandom.current().nextInt(1000);
            try {
                return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            } catch (BindException e) {
                if (attempt > 50) {
                    throw e;
                }
            }
        }
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/microbpf";
    }

    private static Exchange adapt(HttpExchange http) {
        String path = http.getRequestURI().getPath().substring("/microbpf".length());
        Map<String, String> params = new HashMap<>();
        String q = http.getRequestURI().getRawQuery();
        if (q != null) {
            for (String kv : q.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    params.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return new Exchange() {
            int status = 200;
            OutputStream body;

            public String path() { return path; }
            public String parameter(String name) { return params.get(name); }
            public String header(String name) { return http.getRequestHeaders().getFirst(name); }
            public void status(int code) { status = code; }
            public void header(String name, String value) { http.getResponseHeaders().set(name, value); }
            public OutputStream body() throws IOException {
                if (body == null) {
                    http.sendResponseHeaders(status, 0);
                    body = http.getResponseBody();
                }
                return body;
            }
        };
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
