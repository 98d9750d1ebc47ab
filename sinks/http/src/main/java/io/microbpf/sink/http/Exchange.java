package io.microbpf.sink.http;

import java.io.IOException;
import java.io.OutputStream;

/** One HTTP request and its response, as {@link Routes} needs them (the servlet adapts to it; tests too). */
public interface Exchange {
    /** Path below {@code /microbpf}, e.g. {@code /api/flows}; empty for {@code /microbpf} itself. */
    String path();

    /** A query parameter, or {@code null}. */
    String parameter(String name);

    /** A request header, or {@code null}. */
    String header(String name);

    void status(int code);

    void header(String name, String value);

    /** The body; headers and status must be set before the first write. */
    OutputStream body() throws IOException;
}
