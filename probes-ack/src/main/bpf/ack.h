/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events of ack.bpf.c. Java mirror: io.microbpf.probe.ack.internal.ConnEventLayout
 * (checked against this struct's BTF by ConnEventLayoutTest).
 */
#ifndef ACK_H
#define ACK_H

#define CONN_OPEN_ACTIVE 1
#define CONN_OPEN_PASSIVE 2
#define CONN_CLOSE 3

/* conn_event.flags */
#define CONN_FLAG_FIN_RECEIVED 1 /* bytes_received counts the peer's FIN */
#define CONN_FLAG_FIN_ACKED 2    /* bytes_acked counts our FIN */
#define CONN_FLAG_OPEN_SEEN 4    /* the probe saw the connection open */
#define CONN_FLAG_PASSIVE 8      /* opened by accept (only meaningful with OPEN_SEEN) */

#define HOOK_FENTRY 1
#define HOOK_TP_BTF 2
#define HOOK_TRACEPOINT 3

/* 112 bytes */
struct conn_event {
	__u64 ts_ns;          /* bpf_ktime_get_ns() at the state change */
	__u64 sock_cookie;    /* socket cookie; 0 when the hook cannot read it */
	__u64 start_ns;       /* when the connection became ESTABLISHED; 0 if before the probe */
	__u64 bytes_acked;    /* tcp_sock.bytes_acked at the event */
	__u64 bytes_received; /* tcp_sock.bytes_received at the event */
	__u32 pid;            /* tgid of the process that connected or closed; 0 if unknown */
	__u32 netns_ino;      /* inode of the socket's network namespace */
	__u8 saddr[16];       /* local address: IPv4 in the first 4 bytes, or IPv6 */
	__u8 daddr[16];       /* remote address */
	__u16 sport;          /* local port, host order */
	__u16 dport;          /* remote port, host order */
	__u16 family;         /* AF_INET (2) or AF_INET6 (10) */
	__u8 kind;            /* CONN_* */
	__u8 hook;            /* HOOK_*: which program produced the event */
	__u8 old_state;       /* TCP state before the change */
	__u8 new_state;       /* TCP state after the change */
	__u8 flags;           /* CONN_FLAG_* */
	__u8 pad[5];
	char comm[16];        /* comm of the process in pid; empty if unknown */
};

#endif
