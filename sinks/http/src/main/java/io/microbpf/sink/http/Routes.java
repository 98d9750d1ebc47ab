package io.microbpf.sink.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Event;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Every URL under {@code /microbpf}: the page ({@code /}, {@code /app.js}), the REST API
 * ({@code /api/probes}, {@code /api/sinks}, {@code /api/flows}, {@code /api/latency}, {@code /api/netlat}),
 * the Server-Sent-Events stream ({@code /api/events?types=a,b}) and {@code /metrics} (Prometheus).
 * Optional HTTP basic authentication against a JAAS realm guards all of them.
 */
public final class Routes {
    /** Checks a user name and password (a JAAS realm in Karaf). */
    public interface Authenticator {
        boolean authenticate(String user, String password);
    }

    /** Settings that apply live. */
    public record Settings(int maxFlows, int apiMaxFlows, int streamMaxClients, int streamQueueEvents,
            long streamHeartbeatMs, Authenticator authenticator) {}

    private static final Map<String, String> STATIC = Map.of("/", "web/index.html", "/index.html", "web/index.html",
            "/app.js", "web/app.js");

    private final ObjectMapper json;
    private final Sources sources;
    private final EventStream stream;
    private final Api api;
    private volatile Settings settings;

    public Routes(ObjectMapper json, Sources sources, EventStream stream, Settings settings) {
        this.json = json;
        this.sources = sources;
        this.stream = stream;
        this.api = new Api(json, sources);
        this.settings = settings;
    }

    public void setSettings(Settings settings) {
        this.settings = settings;
    }

    public void handle(Exchange x) throws IOException {
        Settings s = settings;
        if (s.authenticator() != null && !authorized(x, s.authenticator())) {
            x.status(401);
            x.header("WWW-Authenticate", "Basic realm=\"microbpf\", charset=\"UTF-8\"");
            send(x, 401, "text/plain; charset=utf-8", "authentication required\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String path = x.path();
        try {
            switch (path) {
                case "" -> {
                    x.status(302);
                    x.header("Location", "/microbpf/");
                    x.body().close();
                }
                case "/api/probes" -> sendJson(x, api.probes());
                case "/api/sinks" -> sendJson(x, api.sinks());
                case "/api/flows" -> sendJson(x, api.flows(x.parameter("sort"), intParameter(x, "limit", s.apiMaxFlows(), 1, 1_000_000)));
                case "/api/latency" -> sendJson(x, api.latency(false));
                case "/api/netlat" -> sendJson(x, api.latency(true));
                case "/api/events" -> stream(x, s);
                case "/metrics" -> {
                    x.status(200);
                    x.header("Content-Type", Metrics.contentType());
                    x.header("Cache-Control", "no-store");
                    try (OutputStream out = x.body()) {
                        Metrics.write(out, sources, s.maxFlows());
                    }
                }
                default -> {
                    String resource = STATIC.get(path);
                    if (resource == null) {
                        sendError(x, 404, "no such resource: /microbpf" + path);
                        return;
                    }
                    try (InputStream in = Routes.class.getClassLoader().getResourceAsStream(resource)) {
                        send(x, 200, path.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/html; charset=utf-8", in.readAllBytes());
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            sendError(x, 400, e.getMessage());
        }
    }

    private static int intParameter(Exchange x, String name, int def, int min, int max) {
        String v = x.parameter(name);
        if (v == null || v.isBlank()) {
            return def;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + "=" + v + " is not a whole number in " + min + ".." + max);
    }

    /** SSE: one {@code event: <type>} / {@code data: <json>} record per event; a comment line as heartbeat. */
    private void stream(Exchange x, Settings s) throws IOException {
        Set<String> types = new LinkedHashSet<>();
        String t = x.parameter("types");
        if (t != null) {
            for (String type : t.split(",")) {
                if (!type.isBlank()) {
                    types.add(type.strip());
                }
            }
        }
        int limit = intParameter(x, "limit", Integer.MAX_VALUE, 1, Integer.MAX_VALUE);
        EventStream.Client client = stream.connect(types, s.streamQueueEvents(), s.streamMaxClients());
        if (client == null) {
            sendError(x, 503, "too many event stream clients (stream.max.clients=" + s.streamMaxClients() + ")");
            return;
        }
        try {
            x.status(200);
            x.header("Content-Type", "text/event-stream; charset=utf-8");
            x.header("Cache-Control", "no-store");
            OutputStream out = x.body();
            out.write((": microbpf events" + (types.isEmpty() ? "" : " of types " + types) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            int sentEvents = 0;
            while (sentEvents < limit) {
                Event e = client.poll(s.streamHeartbeatMs());
                if (e == null) {
                    out.write((": heartbeat, " + client.dropped() + " events dropped for this client\n\n").getBytes(StandardCharsets.UTF_8));
                } else {
                    out.write(("event: " + e.type() + "\ndata: ").getBytes(StandardCharsets.UTF_8));
                    out.write(json.writeValueAsBytes(e));
                    out.write("\n\n".getBytes(StandardCharsets.UTF_8));
                    sentEvents++;
                }
                out.flush();
            }
            out.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stream.disconnect(client);
        }
    }

    private static boolean authorized(Exchange x, Authenticator auth) {
        String h = x.header("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(h.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        return colon > 0 && auth.authenticate(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    private void sendJson(Exchange x, byte[] body) throws IOException {
        send(x, 200, "application/json", body);
    }

    private void sendError(Exchange x, int status, String message) throws IOException {
        send(x, status, "application/json", json.writeValueAsBytes(Map.of("error", message)));
    }

    private static void send(Exchange x, int status, String contentType, byte[] body) throws IOException {
        x.status(status);
        x.header("Content-Type", contentType);
        x.header("Cache-Control", "no-store");
        try (OutputStream out = x.body()) {
            out.write(body);
        }
    }
}
