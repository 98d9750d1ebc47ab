package io.microbpf.sink.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Push mode: POSTs batches of events to a remote URL (a measurement node's collector) in the shared
 * wire format {@code {"agent": ..., "sentWallNs": ..., "events": [...]}}.
 *
 * <p>{@link #deliver} only appends to a bounded buffer ({@code bufferMaxEvents}) and never blocks; a
 * sender thread takes up to {@code batchMaxEvents} at a time and POSTs them until the remote answers
 * 2xx, retrying the same batch with exponential backoff (from {@code retryInitialMs} up to
 * {@code retryMaxMs}). While the remote is down the buffer fills; events that arrive when it is full
 * are dropped and counted exactly ({@link #dropped()}), so {@code published = sent + dropped +
 * pending} at every moment.
 *
 * <p>Owner of the sender thread; {@link #close()} stops it (what is still pending is counted as dropped).
 */
public final class PushSink implements EventSink, AutoCloseable {
    public record Settings(URI url, String agent, int bufferMaxEvents, int batchMaxEvents, long retryInitialMs,
            long retryMaxMs, long timeoutMs, Set<String> types) {}

    private static final Logger LOG = LoggerFactory.getLogger(PushSink.class);

    private final Settings settings;
    private final ObjectMapper json;
    private final HttpClient client;
    private final ArrayDeque<Event> buffer = new ArrayDeque<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final Thread sender;
    private volatile int inFlight;
    private volatile String problem;
    private volatile boolean closed;

    public PushSink(Settings settings, ObjectMapper json) {
        this.settings = settings;
        this.json = json;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(settings.timeoutMs())).build();
        this.sender = new Thread(this::run, "microbpf-sink-http-push");
        this.sender.setDaemon(true);
        this.sender.start();
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public String name() {
        return "http-push";
    }

    @Override
    public boolean accepts(String eventType) {
        return settings.types().isEmpty() || settings.types().contains(eventType);
    }

    @Override
    public void deliver(List<Event> batch) {
        synchronized (buffer) {
            for (Event e : batch) {
                if (!accepts(e.type())) {
                    continue;
                }
                if (closed || buffer.size() >= settings.bufferMaxEvents()) {
                    dropped.incrementAndGet();
                } else {
                    buffer.add(e);
                }
            }
            buffer.notifyAll();
        }
    }

    @Override
    public String problem() {
        return problem;
    }

    /** Events the remote acknowledged. */
    public long sent() {
        return sent.get();
    }

    /** Events dropped because the buffer was full (or the sink closed with events pending). */
    public long dropped() {
        return dropped.get();
    }

    /** Events buffered or in flight. */
    public long pending() {
        synchronized (buffer) {
            return buffer.size() + inFlight;
        }
    }

    public long batchesSent() {
        return batches.get();
    }

    public long failedAttempts() {
        return failedAttempts.get();
    }

    private void run() {
        while (!closed) {
            List<Event> batch = new ArrayList<>();
            synchronized (buffer) {
                while (buffer.isEmpty() && !closed) {
                    try {
                        buffer.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                while (!buffer.isEmpty() && batch.size() < settings.batchMaxEvents()) {
                    batch.add(buffer.poll());
                }
                inFlight = batch.size();
            }
            if (!send(batch)) {
                return;
            }
        }
    }

    /** POSTs one batch until it is taken; false if the sink closed first (the batch then counts as dropped). */
    private boolean send(List<Event> batch) {
        long backoffMs = settings.retryInitialMs();
        while (!closed) {
            String failure;
            try {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("agent", settings.agent());
                Instant now = Instant.now();
                body.put("sentWallNs", now.getEpochSecond() * 1_000_000_000L + now.getNano());
                body.put("events", batch);
                HttpRequest request = HttpRequest.newBuilder(settings.url()).timeout(Duration.ofMillis(settings.timeoutMs()))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build();
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() / 100 == 2) {
                    synchronized (buffer) {
                        sent.addAndGet(batch.size());
                        inFlight = 0;
                    }
                    batches.incrementAndGet();
                    if (problem != null) {
                        LOG.info("http-push: {} takes batches again", settings.url());
                        problem = null;
                    }
                    return true;
                }
                String text = response.body() == null ? "" : response.body().strip();
                failure = "HTTP " + response.statusCode() + (text.isEmpty() ? "" : " " + text.substring(0, Math.min(120, text.length())));
            } catch (InterruptedException e) {
                break;
            } catch (java.net.ConnectException e) {
                failure = "cannot connect" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
            } catch (Exception e) {
                failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            failedAttempts.incrementAndGet();
            String p = "push to " + settings.url() + " fails: " + failure + " (retrying with backoff; buffer holds at most "
                    + settings.bufferMaxEvents() + " events, the rest are dropped and counted)";
            if (problem == null) {
                LOG.error("http-push: {}", p);
            }
            problem = p;
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                break;
            }
            backoffMs = Math.min(settings.retryMaxMs(), backoffMs * 2);
        }
        synchronized (buffer) {
            dropped.addAndGet(batch.size());
            inFlight = 0;
        }
        return false;
    }

    @Override
    public void close() {
        closed = true;
        sender.interrupt();
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (buffer) {
            dropped.addAndGet(buffer.size());
            buffer.clear();
        }
    }
}
