/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records of app.bpf.c. Java mirror: io.microbpf.probe.app.internal.ExchangeLayout
 * (checked against this struct's BTF by ExchangeLayoutTest).
 */
#ifndef APP_H
#define APP_H

/* Role of the local socket, per connection: passive open = server, active open = client; a
 * connection whose open the probe did not see gets the role of its first application call
 * (read first = server, write first = client). */
#define APP_ROLE_UNKNOWN 0
#define APP_ROLE_SERVER 1
#define APP_ROLE_CLIENT 2

/* app_exchange.outcome */
#define APP_ANSWERED 1   /* a response followed the request */
#define APP_CLOSED 2     /* the connection closed before a response */
#define APP_TIMEOUT 3    /* no response within exchange_timeout_ns: aged out of the pending map */
#define APP_SUPERSEDED 4 /* client: read and wrote a new request without a response to the old one */

/*
 * One request/response exchange on one connection, seen from the local socket. Kept in the LRU
 * map "pending" (key: struct exchange_key) while open, copied into the ring buffer when done.
 * Every *_ns is bpf_ktime_get_ns(); 0 means "not seen". Sequence numbers are TCP's (absolute):
 * the client's request bytes [req_start_seq, req_end_seq) are the server's, so the two ends of a
 * connection pair up.
 *
 * server: queue = req_last_ns - queued_ns, think = resp_write_ns - req_last_ns,
 *         send = sent_ns - resp_write_ns
 * client: request = resp_arrival_ns - req_first_ns, send = sent_ns - req_first_ns
 */
struct app_exchange {
	__u64 ts_ns;           /* when the record was made */
	__u64 sock_cookie;
	__u64 req_first_ns;    /* server: first read of the request; client: first write of it */
	__u64 req_last_ns;     /* server: the read that returned the request's last byte; client: last write */
	__u64 queued_ns;       /* server: that last byte was queued on the socket (sk_data_ready) */
	__u64 resp_write_ns;   /* server: first write of the response */
	__u64 sent_ns;         /* first segment of the response (server) / request (client) left TCP */
	__u64 resp_arrival_ns; /* client: first byte of the response queued on the socket */
	__u32 req_start_seq;   /* first byte of the request */
	__u32 req_end_seq;     /* one past its last byte (server: as read; client: as written and acked) */
	__u32 resp_start_seq;  /* first byte of the response */
	__u32 index;           /* exchange number on this connection, from 1 */
	__u32 pid;             /* process that read (server) or wrote (client) the request */
	__u32 netns_ino;
	__u8 saddr[16];        /* local address: IPv4 in the first 4 bytes, or IPv6 */
	__u8 daddr[16];
	__u16 sport;           /* local port, host order */
	__u16 dport;
	__u16 family;          /* AF_INET (2) or AF_INET6 (10) */
	__u8 role;             /* APP_ROLE_* */
	__u8 outcome;          /* APP_* */
	char comm[16];
};

#endif
