package io.microbpf.api;

import java.util.List;

/**
 * Which hook serves one attach point of a probe, and why the earlier candidates were rejected.
 *
 * @param attachPoint the logical boundary, e.g. {@code tcp-state-change}
 * @param chosen the hook in use, e.g. {@code tp_btf/inet_sock_set_state}, or {@code null} if none loaded
 * @param rejected one line per rejected candidate: {@code "fentry/tcp_set_state: load failed: EPERM ..."}
 */
public record HookReport(String attachPoint, String chosen, List<String> rejected) {}
