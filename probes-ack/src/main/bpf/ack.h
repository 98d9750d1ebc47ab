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

/*
 * Per-flow metrics, kept in the LRU map "flows" (key: socket cookie), created once per flow at open.
 * The counters of every ACK (tcp_probe), RTT sample (sockops) and read/write call live in the
 * socket's local storage (struct flow_hot in ack.bpf.c) and are merged in here before each snapshot
 * (merge_hot_flows) and at close; retransmissions update the entry directly; the socket's state is
 * re-read into it before each snapshot (refresh_flows) and at close. User space reads the map for
 * periodic snapshots; at close the final values travel in a struct flow_event.
 * Java mirror: io.microbpf.probe.ack.internal.FlowMetricsLayout.
 */
struct flow_metrics {
	__u64 start_ns;             /* when the connection became ESTABLISHED */
	__u64 updated_ns;           /* last full refresh (snapshot, close, classic-tracepoint ACK) */
	__u64 bytes_acked;          /* tcp_sock.bytes_acked (sequence space: SYN/FIN included) */
	__u64 bytes_received;       /* tcp_sock.bytes_received (FIN included) */
	__u64 read_bytes;           /* sum of recvmsg() results > 0 (MSG_PEEK excluded) */
	__u64 write_bytes;          /* sum of sendmsg() results > 0 */
	__u64 rtt_sum_us;           /* sum of the RTT samples the kernel took (sockops RTT_CB) */
	__u32 read_calls;
	__u32 write_calls;
	__u32 rtt_samples;
	__u32 acks;                 /* segments processed on the established socket (tcp_probe), as of the last merge */
	__u32 snd_cwnd;             /* packets */
	__u32 mss_cache;            /* bytes: tcp_sock.mss_cache = tcpi_snd_mss */
	__u32 snd_wnd;              /* bytes: the peer's advertised window */
	__u32 rcv_wnd;              /* bytes: our advertised window */
	__u32 packets_in_flight;    /* packets_out - (sacked_out + lost_out) + retrans_out */
	__u32 packets_out;          /* tcpi_unacked */
	__u32 total_retrans;        /* tcp_sock.total_retrans = tcpi_total_retrans (segments) */
	__u32 fast_retrans;         /* retransmitted segments outside CA_Loss (the kernel's TCPFastRetrans) */
	__u32 timeouts;             /* RTO expiries: tcp_sock.total_rto where the kernel has it */
	__u32 send_queue_bytes;     /* write_seq - snd_una: written by the application, not yet acked */
	__u32 max_send_queue_bytes; /* maximum of send_queue_bytes since the last snapshot */
	__u32 srtt_us;              /* smoothed RTT */
	__u32 pid;                  /* process that connected, or that closed a passive socket */
	__u32 netns_ino;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 ca_state;              /* congestion-avoidance state at the last refresh */
	__u8 flags;                 /* CONN_FLAG_* */
	char comm[16];
	__u64 sk_ptr;               /* kernel address of the socket: lets refresh_flows re-read it */
	__u32 snapshot_max_send_queue_bytes; /* max_send_queue_bytes of the interval that ended at the snapshot */
	__u32 pad2;
};

/* Ring record at close: the flow's final metrics. Told apart from struct conn_event by its size. */
struct flow_event {
	__u64 ts_ns;
	__u64 sock_cookie;
	struct flow_metrics m;
};

#endif
