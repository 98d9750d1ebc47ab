// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-ack: TCP connection records (open active/passive, close) from TCP state changes, and the
 * per-flow metrics of MicroBPF refreshed on every ACK.
 * Each boundary has hooks in order of preference; the Java side picks the first that loads:
 *   state change: fentry/tcp_set_state, tp_btf/inet_sock_set_state, tracepoint/sock/inet_sock_set_state
 *   ACK:          fentry/tcp_rcv_established, tp_btf/tcp_probe, tracepoint/tcp/tcp_probe
 *   RTT sample:   sockops (BPF_SOCK_OPS_RTT_CB)
 *   retransmit:   tp_btf/tcp_retransmit_skb, tracepoint/tcp/tcp_retransmit_skb
 *   read/write:   tp_btf/sock_recv_length + sock_send_length, and their classic tracepoints
 * Flows are keyed by socket cookie; a hook that cannot read the cookie falls back to the value
 * cached in the socket (set once any cookie-aware hook has seen it).
 * Hot path (BTF-typed hooks and sockops): counters in socket-local storage ("hot"), reached through
 * the socket, no cookie and no hash lookup; merged into the "flows" LRU entry before every snapshot
 * (merge_hot_flows) and at close. The classic-tracepoint fallbacks update the LRU entry directly.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "microbpf.h"
#include "ack.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

MICROBPF_EXPORT_STRUCT(conn_event);

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12
#define IPPROTO_TCP 6

#define TCP_CA_LOSS 4
#define MSG_PEEK 2

/* Filters, set from the configuration before load; 0 counts mean "everything". */
const volatile __u32 filter_port_count = 0;
const volatile __u16 filter_ports[8] = {};    /* local or remote port must be one of these */
const volatile __u32 filter_addr_count = 0;
const volatile __u8 filter_addrs[8][16] = {}; /* local or remote address (IPv4 as ::ffff:a.b.c.d) */
const volatile __u32 filter_netns = 0;         /* netns inode; 0 = any */

/* Flow map bookkeeping: live entries = inserted - deleted - evicted (user space derives evictions). */
__u64 flows_inserted = 0;
__u64 flows_deleted = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct flow_metrics);
} flows SEC(".maps");

MICROBPF_EXPORT_STRUCT(flow_metrics);
MICROBPF_EXPORT_STRUCT(flow_event);

/*
 * Hot per-flow state in socket-local storage: what the per-ACK / per-read / per-write / per-RTT
 * hooks update, reached through the socket itself (no cookie, no hash lookup). Created once per
 * flow next to its "flows" LRU entry (same filter); merged into that entry at every snapshot
 * (merge_hot_flows, an iterator over this map) and at close. Cumulative counters: a merge copies
 * them. Kernel-internal, never read by user space directly, so no Java mirror.
 */
struct flow_hot {
	/* written while the kernel processes an incoming segment (tcp_probe, sockops RTT_CB) */
	__u32 acks;
	__u32 rtt_samples;
	__u64 rtt_sum_us;
	__u32 srtt_us;              /* smoothed RTT at the last RTT sample (derives the sample if needed) */
	/* 64 bytes apart: the ACK side and the application side run on different CPUs for the same
	 * socket; one shared cache line bounced between them (measured: +40-50 ns per ACK and per write) */
	__u8 pad_ack_side[44];
	/* written by the application's read/write calls (sock_recv_length, sock_send_length) */
	__u64 read_bytes;
	__u64 write_bytes;
	__u32 read_calls;
	__u32 write_calls;
	__u32 max_send_queue_bytes; /* maximum after a write since the last merge */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct flow_hot);
} hot SEC(".maps");

/* flows whose socket-local storage could not be created (GFP_ATOMIC failure, or the socket's option
 * memory, which sk_storage is charged to, at net.core.optmem_max): counters stay 0. Read by user space
 * (FlowTable.socketStorageFailedFlows: microbpf:flows, /api/flows, /metrics). */
__u64 hot_create_failed = 0;

/* Copies a flow's hot counters into its LRU entry. A counter is copied only once its hook has
 * counted something, so an entry kept by a classic-tracepoint fallback hook is left as it is. */
static __always_inline void merge_hot(struct flow_metrics *m, struct flow_hot *h)
{
	if (h->acks)
		m->acks = h->acks;
	if (h->read_calls) {
		m->read_bytes = h->read_bytes;
		m->read_calls = h->read_calls;
	}
	if (h->write_calls) {
		m->write_bytes = h->write_bytes;
		m->write_calls = h->write_calls;
	}
	if (h->rtt_samples) {
		m->rtt_samples = h->rtt_samples;
		m->rtt_sum_us = h->rtt_sum_us;
	}
	if (h->max_send_queue_bytes > m->max_send_queue_bytes)
		m->max_send_queue_bytes = h->max_send_queue_bytes;
}

/* Per-socket state between open and close, keyed by the socket's address. */
struct conn_info {
	__u64 start_ns;
	__u32 pid;
	__u8 passive;
	__u8 pad[3];
	char comm[16];
};

/* Bounded (size set from Java before load): a socket whose close we never see is evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn_info);
} conns SEC(".maps");

static __always_inline void remember_process(struct conn_info *info)
{
	info->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(info->comm, sizeof(info->comm));
}

static __always_inline void fill_addresses(struct conn_event *e, struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* inet_sport, not skc_num: the port is released (skc_num = 0) before the CLOSE transition */
	e->sport = __builtin_bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns_ino = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (e->family == MICROBPF_AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	}
}

/* Does the socket pass the configured filters? */
static __always_inline bool wanted(struct sock *sk)
{
	if (filter_netns && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != filter_netns)
		return false;
	if (filter_port_count) {
		__u16 lport = __builtin_bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
		__u16 rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		bool hit = false;
		for (int i = 0; i < 8; i++) {
			if (i < filter_port_count && (filter_ports[i] == lport || filter_ports[i] == rport))
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (filter_addr_count) {
		__u8 l[16] = {}, r[16] = {};
		if (BPF_CORE_READ(sk, __sk_common.skc_family) == MICROBPF_AF_INET6) {
			BPF_CORE_READ_INTO(&l, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
			BPF_CORE_READ_INTO(&r, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		} else {
			l[10] = l[11] = r[10] = r[11] = 0xff;
			BPF_CORE_READ_INTO((__u32 *)&l[12], sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)&r[12], sk, __sk_common.skc_daddr);
		}
		bool hit = false;
		for (int i = 0; i < 8; i++) {
			if (i >= filter_addr_count)
				break;
			bool eql = true, eqr = true;
			for (int j = 0; j < 16; j++) {
				if (l[j] != filter_addrs[i][j])
					eql = false;
				if (r[j] != filter_addrs[i][j])
					eqr = false;
			}
			if (eql || eqr)
				hit = true;
		}
		if (!hit)
			return false;
	}
	return true;
}

/* Copies the kernel's current view of the flow into m. */
static __always_inline void refresh(struct sock *sk, struct flow_metrics *m, __u64 now)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 packets_out = BPF_CORE_READ(tp, packets_out);
	__u32 sacked = BPF_CORE_READ(tp, sacked_out);
	__u32 lost = BPF_CORE_READ(tp, lost_out);
	__u32 retrans = BPF_CORE_READ(tp, retrans_out);
	__u32 queued = BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_una);

	m->updated_ns = now;
	m->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	m->bytes_received = BPF_CORE_READ(tp, bytes_received);
	m->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	m->mss_cache = BPF_CORE_READ(tp, mss_cache);
	m->snd_wnd = BPF_CORE_READ(tp, snd_wnd);
	m->rcv_wnd = BPF_CORE_READ(tp, rcv_wnd);
	m->packets_out = packets_out;
	m->packets_in_flight = packets_out - (sacked + lost) + retrans;
	m->total_retrans = BPF_CORE_READ(tp, total_retrans);
	if (bpf_core_field_exists(tp->total_rto))
		m->timeouts = BPF_CORE_READ(tp, total_rto);
	m->send_queue_bytes = queued;
	if (queued > m->max_send_queue_bytes)
		m->max_send_queue_bytes = queued;
	m->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	m->ca_state = BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state);
}

/* The socket cookie from a hook that cannot call bpf_get_socket_cookie(): the cached value. */
static __always_inline __u64 cached_cookie(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* btf: sk is a BTF pointer (tp_btf / fentry), so socket-local storage can be used; a compile-time
 * constant in each program, so the classic-tracepoint programs contain no sk_storage call. */
static __always_inline void flow_open(struct sock *sk, __u64 cookie, struct conn_info *info, __u64 now, bool btf)
{
	if (!cookie)
		return;
	struct flow_metrics m = {};
	m.start_ns = now;
	m.pid = info->pid;
	__builtin_memcpy(m.comm, info->comm, sizeof(m.comm));
	m.flags = CONN_FLAG_OPEN_SEEN | (info->passive ? CONN_FLAG_PASSIVE : 0);
	struct conn_event tmp = {};
	fill_addresses(&tmp, sk);
	__builtin_memcpy(m.saddr, tmp.saddr, 16);
	__builtin_memcpy(m.daddr, tmp.daddr, 16);
	m.sport = tmp.sport;
	m.dport = tmp.dport;
	m.family = tmp.family;
	m.netns_ino = tmp.netns_ino;
	m.sk_ptr = (__u64)sk;
	refresh(sk, &m, now);
	if (bpf_map_update_elem(&flows, &cookie, &m, BPF_NOEXIST) == 0) {
		__sync_fetch_and_add(&flows_inserted, 1);
		if (btf && !bpf_sk_storage_get(&hot, sk, 0, BPF_SK_STORAGE_GET_F_CREATE))
			__sync_fetch_and_add(&hot_create_failed, 1);
	}
}

static __always_inline void flow_close(struct sock *sk, __u64 cookie, struct conn_info *info, __u64 now, __u8 flags,
				       bool btf)
{
	if (!cookie)
		return;
	struct flow_metrics *m = bpf_map_lookup_elem(&flows, &cookie);
	if (!m)
		return;
	if (btf) {
		struct flow_hot *h = bpf_sk_storage_get(&hot, sk, 0, 0);
		if (h)
			merge_hot(m, h);
	}
	refresh(sk, m, now);
	m->flags |= flags & (CONN_FLAG_FIN_RECEIVED | CONN_FLAG_FIN_ACKED);
	if (info && m->pid == 0) {
		m->pid = info->pid;
		__builtin_memcpy(m->comm, info->comm, sizeof(m->comm));
	}
	struct flow_event *e = microbpf_reserve(sizeof(*e));
	if (e) {
		e->ts_ns = now;
		e->sock_cookie = cookie;
		__builtin_memcpy(&e->m, m, sizeof(e->m));
		bpf_ringbuf_submit(e, 0);
	}
	if (bpf_map_delete_elem(&flows, &cookie) == 0)
		__sync_fetch_and_add(&flows_deleted, 1);
}

/* Which FINs the byte counters include: the peer's (received) and ours (sent and acknowledged). */
static __always_inline __u8 fin_flags(struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 shutdown = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
	__u8 flags = 0;
	if (shutdown & 1) /* RCV_SHUTDOWN: the peer's FIN arrived (or the reader shut down) */
		flags |= CONN_FLAG_FIN_RECEIVED;
	if ((shutdown & 2) && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		flags |= CONN_FLAG_FIN_ACKED; /* our FIN was sent and acknowledged */
	return flags;
}

static __always_inline int emit(struct sock *sk, int oldstate, int newstate, __u8 kind, __u8 hook,
				__u64 cookie, struct conn_info *info, __u64 now)
{
	if (!wanted(sk))
		return 0;
	struct conn_event *e = microbpf_reserve(sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	e->ts_ns = now;
	e->sock_cookie = cookie;
	e->kind = kind;
	e->hook = hook;
	e->old_state = oldstate;
	e->new_state = newstate;
	e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	e->bytes_received = BPF_CORE_READ(tp, bytes_received);
	e->flags = fin_flags(sk);
	if (info) {
		e->flags |= CONN_FLAG_OPEN_SEEN;
		if (info->passive)
			e->flags |= CONN_FLAG_PASSIVE;
		e->start_ns = info->start_ns;
		e->pid = info->pid;
		__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	}
	fill_addresses(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int handle(struct sock *sk, int oldstate, int newstate, __u8 hook, __u64 cookie, bool btf)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();

	if (newstate == TCP_SYN_SENT) {
		/* connect(): process context, remember who */
		struct conn_info info = {};
		remember_process(&info);
		bpf_map_update_elem(&conns, &key, &info, BPF_ANY);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		struct conn_info *info = bpf_map_lookup_elem(&conns, &key);
		struct conn_info fresh = {};
		if (!info) {
			bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
			info = bpf_map_lookup_elem(&conns, &key);
			if (!info)
				return 0;
		}
		info->start_ns = now;
		info->passive = oldstate == TCP_SYN_RECV;
		if (wanted(sk))
			flow_open(sk, cookie, info, now, btf);
		return emit(sk, oldstate, newstate, info->passive ? CONN_OPEN_PASSIVE : CONN_OPEN_ACTIVE,
			    hook, cookie, info, now);
	}
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK) {
		/* close()/shutdown(): process context; learn the owner of passive sockets */
		struct conn_info *info = bpf_map_lookup_elem(&conns, &key);
		if (info && info->pid == 0)
			remember_process(info);
		return 0;
	}
	if (newstate == TCP_CLOSE) {
		struct conn_info *info = bpf_map_lookup_elem(&conns, &key);
		if (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV || oldstate == TCP_CLOSE ||
		    oldstate == TCP_LISTEN || oldstate == TCP_NEW_SYN_RECV) {
			/* never established (or a listener): nothing to report */
			if (info)
				bpf_map_delete_elem(&conns, &key);
			return 0;
		}
		if (!cookie)
			cookie = cached_cookie(sk);
		flow_close(sk, cookie, info, now, fin_flags(sk), btf);
		emit(sk, oldstate, newstate, CONN_CLOSE, hook, cookie, info, now);
		if (info)
			bpf_map_delete_elem(&conns, &key);
	}
	return 0;
}

SEC("fentry/tcp_set_state")
int BPF_PROG(conn_fentry, struct sock *sk, int state)
{
	return handle(sk, BPF_CORE_READ(sk, __sk_common.skc_state), state, HOOK_FENTRY,
		      bpf_get_socket_cookie(sk), true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(conn_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	return handle((struct sock *)sk, oldstate, newstate, HOOK_TP_BTF,
		      bpf_get_socket_cookie((void *)sk), true);
}

SEC("tracepoint/sock/inet_sock_set_state")
int conn_tracepoint(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = (struct sock *)ctx->skaddr;
	return handle(sk, ctx->oldstate, ctx->newstate, HOOK_TRACEPOINT, cached_cookie(sk), false);
}

/* ---- ACK: refresh the flow on every segment the established socket processes ---- */

/*
 * BTF-typed hooks: only what must happen per ACK. The kernel itself refreshes tcp_sock on every
 * ACK; the probe counts the ACK in the flow's socket-local storage (no cookie, no hash lookup) and
 * reads the socket's state (cwnd, windows, MSS, in flight, retransmits, queue, srtt, byte counts)
 * at every snapshot (refresh_flows) and at close, so a snapshot shows the state left by the last
 * ACK processed before it. Only tracked flows have storage: the filter was applied at open.
 */
static __always_inline int on_ack_btf(struct sock *sk)
{
	struct flow_hot *h = bpf_sk_storage_get(&hot, sk, 0, 0);
	if (h)
		h->acks++;
	return 0;
}

SEC("fentry/tcp_rcv_established")
int BPF_PROG(ack_fentry, struct sock *sk, struct sk_buff *skb)
{
	return on_ack_btf(sk);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(ack_tp_btf, struct sock *sk, const struct sk_buff *skb)
{
	return on_ack_btf(sk);
}

SEC("tracepoint/tcp/tcp_probe")
int ack_tracepoint(struct trace_event_raw_tcp_probe *ctx)
{
	__u64 cookie = ctx->sock_cookie;
	struct flow_metrics *m = bpf_map_lookup_elem(&flows, &cookie);
	if (!m)
		return 0;
	refresh((struct sock *)ctx->skaddr, m, bpf_ktime_get_ns());
	m->acks++;
	return 0;
}

/* ---- RTT samples: sockops, enabled per socket when it is established ---- */

SEC("sockops")
int rtt_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_RTT_CB: {
		struct bpf_sock *sk = skops->sk;
		struct flow_hot *m = sk ? bpf_sk_storage_get(&hot, sk, 0, 0) : NULL;
		if (m) {
			/* args[0] is the new sample (mrtt_us) on kernels that pass it; else derive it
			 * from the smoothed RTT: srtt8' = srtt8 + m - srtt8/8 (tcp_rtt_estimator) */
			__u32 srtt8 = skops->srtt_us;
			__u64 sample = skops->args[0];
			if (!sample)
				sample = m->srtt_us ? (srtt8 - (m->srtt_us << 3) + m->srtt_us) : srtt8 >> 3;
			m->rtt_samples++;
			m->rtt_sum_us += sample;
			m->srtt_us = srtt8 >> 3;
		}
		break;
	}
	}
	return 1;
}

/* ---- retransmissions: fast (outside CA_Loss) vs after a timeout ---- */

static __always_inline int on_retransmit(struct sock *sk, __u64 cookie)
{
	struct flow_metrics *m = bpf_map_lookup_elem(&flows, &cookie);
	if (!m)
		return 0;
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 total = BPF_CORE_READ(tp, total_retrans);
	__u8 ca = BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state);
	__u32 delta = total - m->total_retrans;
	if (ca != TCP_CA_LOSS)
		m->fast_retrans += delta;
	else if (!bpf_core_field_exists(tp->total_rto) && m->ca_state != TCP_CA_LOSS)
		m->timeouts++; /* older kernels: count entries into CA_Loss */
	m->total_retrans = total;
	m->ca_state = ca;
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retrans_tp_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_retransmit((struct sock *)sk, bpf_get_socket_cookie((void *)sk));
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retrans_tracepoint(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	return on_retransmit(sk, cached_cookie(sk));
}

/* ---- application reads and writes ---- */

/* Counts one read or write call; returns the flow of a write so the caller can sample the send queue. */
static __always_inline struct flow_metrics *on_io(__u64 cookie, int ret, int flags, bool write)
{
	if (ret <= 0 || (!write && (flags & MSG_PEEK)))
		return NULL;
	struct flow_metrics *m = bpf_map_lookup_elem(&flows, &cookie);
	if (!m)
		return NULL;
	if (write) {
		m->write_bytes += ret;
		m->write_calls++;
		return m;
	}
	m->read_bytes += ret;
	m->read_calls++;
	return NULL;
}

/* The send queue peaks right after a write: sample it there so MaxAppWQueue misses nothing. */
static __always_inline void sample_send_queue(__u32 queued, struct flow_metrics *m)
{
	m->send_queue_bytes = queued;
	if (queued > m->max_send_queue_bytes)
		m->max_send_queue_bytes = queued;
}

/* BTF-typed hooks: counters in socket-local storage (only tracked TCP flows have it) */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(recv_tp_btf, struct sock *sk, int ret, int flags)
{
	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	struct flow_hot *h = bpf_sk_storage_get(&hot, sk, 0, 0);
	if (h) {
		h->read_bytes += ret;
		h->read_calls++;
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(send_tp_btf, struct sock *sk, int ret, int flags)
{
	if (ret <= 0)
		return 0;
	struct flow_hot *h = bpf_sk_storage_get(&hot, sk, 0, 0);
	if (!h)
		return 0;
	h->write_bytes += ret;
	h->write_calls++;
	/* the send queue peaks right after a write: sample it there so MaxAppWQueue misses nothing */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (tp) {
		__u32 queued = tp->write_seq - tp->snd_una;
		if (queued > h->max_send_queue_bytes)
			h->max_send_queue_bytes = queued;
	}
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int recv_tracepoint(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = ctx->sk;
	on_io(cached_cookie(sk), ctx->ret, ctx->flags, false);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int send_tracepoint(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = ctx->sk;
	struct flow_metrics *m = on_io(cached_cookie(sk), ctx->ret, ctx->flags, true);
	if (m) {
		struct tcp_sock *tp = (struct tcp_sock *)sk;
		sample_send_queue(BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_una), m);
	}
	return 0;
}

/* ---- snapshots: user space runs this (BPF_PROG_TEST_RUN) right before it reads the map ---- */

static long refresh_one(struct bpf_map *map, __u64 *cookie, struct flow_metrics *m, __u64 *now)
{
	refresh((struct sock *)m->sk_ptr, m, *now);
	/* MaxAppWQueue is per interval: hand this interval's maximum to the snapshot, start the next */
	m->snapshot_max_send_queue_bytes = m->max_send_queue_bytes;
	m->max_send_queue_bytes = m->send_queue_bytes;
	return 0;
}

/*
 * Snapshots, step 1: user space reads this iterator (bpf_iter over the "hot" sk_storage map) right
 * before refresh_flows: each tracked socket's hot counters go into its LRU entry; the interval's
 * write-time maximum of the send queue is handed over and restarted.
 */
SEC("iter/bpf_sk_storage_map")
int merge_hot_flows(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sock *sk = ctx->sk;
	struct flow_hot *h = ctx->value;
	if (!sk || !h)
		return 0;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct flow_metrics *m = bpf_map_lookup_elem(&flows, &cookie);
	if (!m)
		return 0; /* evicted from the LRU: the flow is no longer reported */
	merge_hot(m, h);
	h->max_send_queue_bytes = 0;
	return 0;
}

/* Snapshots, step 2 */
SEC("raw_tp")
int refresh_flows(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	bpf_for_each_map_elem(&flows, refresh_one, &now, 0);
	return 0;
}
