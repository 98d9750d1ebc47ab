package io.microbpf.sink.http;

import java.io.IOException;
import java.io.OutputStream;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** Registered with Karaf's HTTP whiteboard at {@code /microbpf} and {@code /microbpf/*}; hands every GET to {@link Routes}. */
final class MicrobpfServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient Routes routes;

    MicrobpfServlet(Routes routes) {
        this.routes = routes;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        routes.handle(new Exchange() {
            public String path() {
                String info = req.getPathInfo();
                return info == null ? "" : info;
            }

            public String parameter(String name) {
                return req.getParameter(name);
            }

            public String header(String name) {
                return req.getHeader(name);
            }

            public void status(int code) {
                resp.setStatus(code);
            }

            public void header(String name, String value) {
                resp.setHeader(name, value);
            }

            public OutputStream body() throws IOException {
                return resp.getOutputStream();
            }
        });
    }
}
