// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-ack: TCP connection records (open active/passive, close) from TCP state changes.
 * One handler, three hooks in order of preference (the Java side picks the first that loads):
 *   fentry/tcp_set_state, tp_btf/inet_sock_set_state, tracepoint/sock/inet_sock_set_state.
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

static __always_inline int emit(struct sock *sk, int oldstate, int newstate, __u8 kind, __u8 hook,
				__u64 cookie, struct conn_info *info, __u64 now)
{
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
	__u32 shutdown = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
	if (shutdown & 1) /* RCV_SHUTDOWN: the peer's FIN arrived (or the reader shut down) */
		e->flags |= CONN_FLAG_FIN_RECEIVED;
	if ((shutdown & 2) && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		e->flags |= CONN_FLAG_FIN_ACKED; /* our FIN was sent and acknowledged */
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

static __always_inline int handle(struct sock *sk, int oldstate, int newstate, __u8 hook, __u64 cookie)
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
		      bpf_get_socket_cookie(sk));
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(conn_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	return handle((struct sock *)sk, oldstate, newstate, HOOK_TP_BTF,
		      bpf_get_socket_cookie((void *)sk));
}

SEC("tracepoint/sock/inet_sock_set_state")
int conn_tracepoint(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return handle((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate, HOOK_TRACEPOINT, 0);
}
