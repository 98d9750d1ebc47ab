// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-app: application-layer latency per request/response exchange, as the kernel sees it.
 *
 * An exchange is a turn of the conversation on one connection. On the server side: the reads that
 * return a request (from the first read after a write), then the first write of the response, then
 * the first segment carrying the response leaving TCP. On the client side: the writes of a request
 * (from the first write after a read), then the first response byte queued on the socket, where a
 * response must acknowledge the request's last byte (snd_una >= write_seq: the seed's pairing rule,
 * "the response carries ack = the request's last byte + 1").
 *
 * Boundaries and their hooks, in order of preference (the Java side picks the first that loads):
 *   state change: fentry/tcp_set_state, tp_btf/inet_sock_set_state, sockops (ESTABLISHED_CB + STATE_CB),
 *                 tracepoint/sock/inet_sock_set_state
 *   data queued:  fentry/tcp_data_ready, tp_btf/sk_data_ready, tracepoint/sock/sk_data_ready
 *   app read:     fentry/skb_copy_datagram_iter (seed), tp_btf/skb_copy_datagram_iovec,
 *                 tracepoint/skb/skb_copy_datagram_iovec, tp_btf/sock_recv_length, tracepoint/sock/sock_recv_length
 *   app write:    fentry/tcp_sendmsg_locked, tp_btf/tcp_sendmsg_locked (both at the start of the send)
 *   segment out:  fentry/__tcp_transmit_skb (seed: tcp_transmit_skb), cgroup_skb/egress
 * Connections and exchanges are keyed by socket cookie (cgroup_skb has nothing else); a classic
 * tracepoint reads the cookie cached in the socket.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "microbpf.h"
#include "app.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

MICROBPF_EXPORT_STRUCT(app_exchange);

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define IPPROTO_TCP 6
#define MSG_PEEK 2
#define RCV_SHUTDOWN 1
#define SOCK_STREAM 1
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02

#define TURN_NONE 0
#define TURN_READ 1
#define TURN_WRITE 2

#define ARRIVALS 8      /* data-queued moments remembered per connection */
#define TX_SCAN 4       /* exchanges one transmitted segment can complete */
#define CLOSE_SCAN 8    /* open exchanges flushed at close */

/* Set from the configuration before load. */
const volatile __u32 filter_port_count = 0;
const volatile __u16 filter_ports[8] = {}; /* local or remote port must be one of these; 0 count = any */
const volatile __u64 exchange_timeout_ns = 30000000000ULL;

/*
 * Pending-map bookkeeping. LRU evictions are invisible to programs; expire_exchanges derives them:
 * evicted = inserted - removed - live, where live is counted by its walk. The counters move while
 * it walks, so it keeps a lower bound (inserted before the walk - removed after it - counted), and
 * the maximum of those: exact whenever the map is quiet, never more than the true count.
 */
__u64 pending_inserted = 0;
__u64 pending_removed = 0;
__u64 pending_evicted = 0;

/* Per-connection state (key: socket cookie). */
struct app_conn {
	__u64 arrival_ns[ARRIVALS];  /* when data became readable ... */
	__u32 arrival_end[ARRIVALS]; /* ... and rcv_nxt then (one past the last queued byte) */
	__u32 arrival_next;          /* next slot to overwrite (mod ARRIVALS) */
	__u32 rcv_end;               /* rcv_nxt at the last data-queued event */
	__u32 next_index;            /* exchanges started on this connection */
	__u32 open_index;            /* the exchange in its request stage (server: until the next read turn) */
	__u32 tx_index;              /* server: oldest exchange whose response is written but not yet sent */
	__u8 role;
	__u8 turn;                   /* TURN_*: the application's last call on the socket */
	__u8 have_rcv_end;           /* rcv_end is set */
	__u8 pad;
};

struct exchange_key {
	__u64 cookie;
	__u32 index;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct app_conn);
} conns SEC(".maps");

/* Open exchanges; bounded (size set from Java): one that never completes ages out (timeout) or is evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct exchange_key);
	__type(value, struct app_exchange);
} pending SEC(".maps");

static __always_inline bool seq_after_eq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

static __always_inline __u64 cached_cookie(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

static __always_inline bool is_tcp(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return (family == MICROBPF_AF_INET || family == MICROBPF_AF_INET6) &&
	       BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP && BPF_CORE_READ(sk, sk_type) == SOCK_STREAM;
}

static __always_inline bool wanted_ports(__u16 lport, __u16 rport)
{
	if (!filter_port_count)
		return true;
	bool hit = false;
	for (int i = 0; i < 8; i++) {
		if (i < filter_port_count && (filter_ports[i] == lport || filter_ports[i] == rport))
			hit = true;
	}
	return hit;
}

static __always_inline bool wanted(struct sock *sk)
{
	return !filter_port_count || wanted_ports(BPF_CORE_READ(sk, __sk_common.skc_num),
						  __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport)));
}

static __always_inline void fill_identity(struct app_exchange *e, struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns_ino = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (e->family == MICROBPF_AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline struct app_conn *conn_get(__u64 cookie)
{
	return cookie ? bpf_map_lookup_elem(&conns, &cookie) : NULL;
}

/* The connection's state, created on first sight if the socket passes the filters. */
static __always_inline struct app_conn *conn_get_or_create(struct sock *sk, __u64 cookie, __u8 role)
{
	if (!cookie)
		return NULL;
	struct app_conn *c = bpf_map_lookup_elem(&conns, &cookie);
	if (c)
		return c;
	if (!wanted(sk))
		return NULL;
	struct app_conn fresh = {};
	fresh.role = role;
	bpf_map_update_elem(&conns, &cookie, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&conns, &cookie);
}

static __always_inline struct app_exchange *exchange_get(__u64 cookie, __u32 index)
{
	if (!index)
		return NULL;
	struct exchange_key k = {.cookie = cookie, .index = index};
	return bpf_map_lookup_elem(&pending, &k);
}

static __always_inline void exchange_remove(__u64 cookie, __u32 index)
{
	struct exchange_key k = {.cookie = cookie, .index = index};
	if (bpf_map_delete_elem(&pending, &k) == 0)
		__sync_fetch_and_add(&pending_removed, 1);
}

/*
 * Copies a finished exchange into the ring buffer. The reader is woken only once WAKEUP_BYTES are
 * waiting (its poll timeout collects the rest): one wake-up per record costs the producer an
 * irq_work and the reader a context switch, at up to one record per request.
 */
#define WAKEUP_BYTES (64 * 1024)
static __always_inline void emit(struct app_exchange *ex, __u8 outcome, __u64 now)
{
	ex->outcome = outcome;
	struct app_exchange *e = microbpf_reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memcpy(e, ex, sizeof(*e));
	e->ts_ns = now;
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
										     : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void emit_and_remove(__u64 cookie, __u32 index, struct app_exchange *ex, __u8 outcome,
					    __u64 now)
{
	emit(ex, outcome, now);
	exchange_remove(cookie, index);
}

/* Starts exchange number ++next_index; returns it or NULL. */
static __always_inline struct app_exchange *exchange_start(struct sock *sk, __u64 cookie, struct app_conn *c,
							    __u64 now)
{
	__u32 index = c->next_index + 1;
	struct exchange_key k = {.cookie = cookie, .index = index};
	struct app_exchange fresh = {};
	fresh.sock_cookie = cookie;
	fresh.index = index;
	fresh.role = c->role;
	fresh.req_first_ns = now;
	fill_identity(&fresh, sk);
	if (bpf_map_update_elem(&pending, &k, &fresh, BPF_ANY) != 0)
		return NULL;
	__sync_fetch_and_add(&pending_inserted, 1);
	c->next_index = index;
	c->open_index = index;
	return bpf_map_lookup_elem(&pending, &k);
}

/* When the byte before seq_end became readable: the earliest remembered arrival that covers it. */
static __always_inline __u64 arrival_of(struct app_conn *c, __u32 seq_end)
{
	__u64 best_ns = 0;
	__u32 best_end = 0;
	for (int i = 0; i < ARRIVALS; i++) {
		__u64 t = c->arrival_ns[i];
		__u32 e = c->arrival_end[i];
		if (t && seq_after_eq(e, seq_end) && (!best_ns || (__s32)(e - best_end) < 0)) {
			best_ns = t;
			best_end = e;
		}
	}
	return best_ns;
}

/* ---- the boundaries, independent of the hook that reports them ---- */

/*
 * In-order data became readable. data_end = one past the last payload byte queued (rcv_nxt less the
 * peer's FIN, which also wakes the reader but is no data); snd_una / write_seq / copied_seq are the
 * socket's values now.
 */
static __always_inline void on_data_queued(struct sock *sk, __u64 cookie, __u32 data_end, __u32 snd_una,
					   __u32 write_seq, __u32 copied_seq, __u64 now)
{
	struct app_conn *c = conn_get_or_create(sk, cookie, APP_ROLE_UNKNOWN);
	if (!c)
		return;
	/* where the new bytes start: the end of the last arrival, or the reader's position */
	__u32 prev_end = c->have_rcv_end ? c->rcv_end : copied_seq;
	if ((__s32)(data_end - prev_end) <= 0)
		return; /* a FIN, or nothing new */
	__u32 slot = c->arrival_next & (ARRIVALS - 1);
	c->arrival_ns[slot] = now;
	c->arrival_end[slot] = data_end;
	c->arrival_next++;
	c->rcv_end = data_end;
	c->have_rcv_end = 1;
	if (c->role != APP_ROLE_CLIENT)
		return;
	struct app_exchange *ex = exchange_get(cookie, c->open_index);
	/* the seed's rule: a response acknowledges the request's last byte */
	if (!ex || ex->resp_arrival_ns || !seq_after_eq(snd_una, write_seq))
		return;
	ex->req_end_seq = write_seq;
	ex->resp_start_seq = prev_end;
	ex->resp_arrival_ns = now;
	emit_and_remove(cookie, c->open_index, ex, APP_ANSWERED, now);
	c->open_index = 0;
}

/* The application read bytes [seq_before, seq_after) of the stream. */
static __always_inline void on_read(struct sock *sk, __u64 cookie, __u32 seq_before, __u32 seq_after, __u64 now)
{
	if (seq_before == seq_after)
		return;
	struct app_conn *c = conn_get_or_create(sk, cookie, APP_ROLE_SERVER);
	if (!c)
		return;
	if (c->role == APP_ROLE_UNKNOWN)
		c->role = APP_ROLE_SERVER; /* read first: it serves */
	if (c->role == APP_ROLE_SERVER) {
		struct app_exchange *ex;
		if (c->turn != TURN_READ) {
			/* a new request; the previous exchange, if its response is still unsent, stays pending */
			ex = exchange_start(sk, cookie, c, now);
			if (ex)
				ex->req_start_seq = seq_before;
		} else {
			ex = exchange_get(cookie, c->open_index);
		}
		if (ex) {
			ex->req_last_ns = now;
			ex->req_end_seq = seq_after;
			ex->queued_ns = arrival_of(c, seq_after);
		}
	}
	c->turn = TURN_READ;
}

/* The application starts writing; write_seq = sequence number of the first byte it writes. */
static __always_inline void on_write(struct sock *sk, __u64 cookie, __u32 write_seq, __u64 now)
{
	struct app_conn *c = conn_get_or_create(sk, cookie, APP_ROLE_CLIENT);
	if (!c)
		return;
	if (c->role == APP_ROLE_UNKNOWN)
		c->role = APP_ROLE_CLIENT; /* write first: it asks */
	if (c->role == APP_ROLE_SERVER) {
		if (c->turn == TURN_READ) {
			struct app_exchange *ex = exchange_get(cookie, c->open_index);
			if (ex && !ex->resp_write_ns) {
				ex->resp_write_ns = now;
				ex->resp_start_seq = write_seq;
				if (!c->tx_index)
					c->tx_index = c->open_index;
			}
		}
	} else {
		struct app_exchange *ex = NULL;
		if (c->turn != TURN_WRITE) {
			/* a new request; an older one without a response is given up */
			struct app_exchange *old = exchange_get(cookie, c->open_index);
			if (old)
				emit_and_remove(cookie, c->open_index, old, APP_SUPERSEDED, now);
			ex = exchange_start(sk, cookie, c, now);
			if (ex)
				ex->req_start_seq = write_seq;
		} else {
			ex = exchange_get(cookie, c->open_index);
		}
		if (ex)
			ex->req_last_ns = now;
	}
	c->turn = TURN_WRITE;
}

/* A segment carrying payload bytes [seq, end_seq) leaves TCP (first transmission or retransmission). */
static __always_inline void on_transmit(__u64 cookie, __u32 seq, __u32 end_seq, __u64 now)
{
	if (seq == end_seq)
		return;
	struct app_conn *c = conn_get(cookie);
	if (!c)
		return;
	if (c->role == APP_ROLE_CLIENT) {
		struct app_exchange *ex = exchange_get(cookie, c->open_index);
		if (ex && !ex->sent_ns && (__s32)(end_seq - ex->req_start_seq) > 0)
			ex->sent_ns = now;
		return;
	}
	if (c->role != APP_ROLE_SERVER || !c->tx_index)
		return;
	/* responses written in order: complete each whose first byte this segment carries (or passed) */
	__u32 k = c->tx_index;
	for (int i = 0; i < TX_SCAN; i++) {
		if (k == 0 || (__s32)(k - c->open_index) > 0)
			break;
		struct app_exchange *ex = exchange_get(cookie, k);
		if (ex) {
			if (!ex->resp_write_ns || (__s32)(end_seq - ex->resp_start_seq) <= 0)
				break; /* not written yet, or this segment is older data */
			ex->sent_ns = now;
			emit_and_remove(cookie, k, ex, APP_ANSWERED, now);
		}
		k++;
	}
	/* the next one awaiting its first segment, if its response is written */
	struct app_exchange *next = exchange_get(cookie, k);
	c->tx_index = (next && next->resp_write_ns) ? k : 0;
}

/* The connection closed: flush its open exchanges. */
static __always_inline void on_close(__u64 cookie, __u64 now)
{
	struct app_conn *c = conn_get(cookie);
	if (!c)
		return;
	__u32 k = c->tx_index ? c->tx_index : c->open_index;
	for (int i = 0; i < CLOSE_SCAN; i++) {
		if (k == 0 || (__s32)(k - c->open_index) > 0)
			break;
		struct app_exchange *ex = exchange_get(cookie, k);
		if (ex)
			emit_and_remove(cookie, k, ex, ex->resp_write_ns ? APP_ANSWERED : APP_CLOSED, now);
		k++;
	}
	bpf_map_delete_elem(&conns, &cookie);
}

static __always_inline void on_state(struct sock *sk, __u64 cookie, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		struct app_conn *c = conn_get_or_create(sk, cookie, APP_ROLE_UNKNOWN);
		if (c)
			c->role = oldstate == TCP_SYN_RECV ? APP_ROLE_SERVER : APP_ROLE_CLIENT;
	} else if (newstate == TCP_CLOSE) {
		on_close(cookie ? cookie : cached_cookie(sk), bpf_ktime_get_ns());
	}
}

/* ---- state changes: roles from the open, flush at close ---- */

SEC("fentry/tcp_set_state")
int BPF_PROG(state_fentry, struct sock *sk, int state)
{
	on_state(sk, bpf_get_socket_cookie(sk), BPF_CORE_READ(sk, __sk_common.skc_state), state);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	on_state((struct sock *)sk, bpf_get_socket_cookie((void *)sk), oldstate, newstate);
	return 0;
}

/*
 * sockops: ACTIVE/PASSIVE_ESTABLISHED_CB give the role and generate the socket cookie (which the
 * classic-tracepoint fallbacks can only read once generated); STATE_CB (enabled here per socket)
 * gives the close.
 */
SEC("sockops")
int state_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB: {
		if (skops->family != MICROBPF_AF_INET && skops->family != MICROBPF_AF_INET6)
			break;
		__u64 cookie = bpf_get_socket_cookie(skops);
		if (!cookie || !wanted_ports(skops->local_port, bpf_ntohl(skops->remote_port)))
			break;
		struct app_conn fresh = {};
		fresh.role = skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB ? APP_ROLE_SERVER : APP_ROLE_CLIENT;
		bpf_map_update_elem(&conns, &cookie, &fresh, BPF_NOEXIST);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		break;
	}
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == TCP_CLOSE)
			on_close(bpf_get_socket_cookie(skops), bpf_ktime_get_ns());
		break;
	}
	return 1;
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_tracepoint(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = (struct sock *)ctx->skaddr;
	on_state(sk, cached_cookie(sk), ctx->oldstate, ctx->newstate);
	return 0;
}

/* ---- data queued on the socket (readable) ---- */

static __always_inline void data_queued(struct sock *sk, __u64 cookie)
{
	/* a listener's data_ready means "a connection to accept": not data */
	if (!cookie || !is_tcp(sk) || BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN)
		return;
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 fin = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) & RCV_SHUTDOWN;
	on_data_queued(sk, cookie, BPF_CORE_READ(tp, rcv_nxt) - fin, BPF_CORE_READ(tp, snd_una),
		       BPF_CORE_READ(tp, write_seq), BPF_CORE_READ(tp, copied_seq), bpf_ktime_get_ns());
}

SEC("fentry/tcp_data_ready")
int BPF_PROG(queued_fentry, struct sock *sk)
{
	data_queued(sk, bpf_get_socket_cookie(sk));
	return 0;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(queued_tp_btf, const struct sock *sk)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	data_queued((struct sock *)sk, bpf_get_socket_cookie((void *)sk));
	return 0;
}

SEC("tracepoint/sock/sk_data_ready")
int queued_tracepoint(struct trace_event_raw_sk_data_ready *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = (struct sock *)ctx->skaddr;
	data_queued(sk, cached_cookie(sk));
	return 0;
}

/* ---- the application reads ---- */

/* skb_copy_datagram_iter: len bytes of a TCP receive-queue skb are copied to the reader; copied_seq
 * is advanced after the copy, so the bytes are [copied_seq, copied_seq + len). */
static __always_inline void copied(struct sock *sk, __u64 cookie, int len)
{
	if (!sk || len <= 0 || !is_tcp(sk))
		return;
	if (!cookie)
		cookie = cached_cookie(sk);
	__u32 before = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
	on_read(sk, cookie, before, before + len, bpf_ktime_get_ns());
}

SEC("fentry/skb_copy_datagram_iter")
int BPF_PROG(read_fentry, const struct sk_buff *skb, int offset, struct iov_iter *to, int len)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		copied(sk, bpf_get_socket_cookie(sk), len);
	return 0;
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(read_tp_btf, const struct sk_buff *skb, int len)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		copied(sk, 0, len);
	return 0;
}

SEC("tracepoint/skb/skb_copy_datagram_iovec")
int read_tracepoint(struct trace_event_raw_skb_copy_datagram_iovec *ctx)
{
	struct sock *sk = BPF_CORE_READ((struct sk_buff *)ctx->skbaddr, sk);
	if (sk)
		copied(sk, 0, ctx->len);
	return 0;
}

/* sock_recv_length: at the end of recvmsg; copied_seq already includes the ret bytes */
static __always_inline void received(struct sock *sk, __u64 cookie, int ret, int flags)
{
	if (ret <= 0 || (flags & MSG_PEEK) || !is_tcp(sk))
		return;
	__u32 after = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
	on_read(sk, cookie, after - ret, after, bpf_ktime_get_ns());
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(recvlen_tp_btf, struct sock *sk, int ret, int flags)
{
	if (ret <= 0 || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	received(sk, bpf_get_socket_cookie(sk), ret, flags);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int recvlen_tracepoint(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	struct sock *sk = ctx->sk;
	received(sk, cached_cookie(sk), ctx->ret, ctx->flags);
	return 0;
}

/* ---- the application writes (at the start of the send, before any segment of it leaves) ---- */

static __always_inline void writing(struct sock *sk, __u64 cookie)
{
	if (!is_tcp(sk))
		return;
	on_write(sk, cookie, BPF_CORE_READ((struct tcp_sock *)sk, write_seq), bpf_ktime_get_ns());
}

SEC("fentry/tcp_sendmsg_locked")
int BPF_PROG(write_fentry, struct sock *sk, struct msghdr *msg, size_t size)
{
	writing(sk, bpf_get_socket_cookie(sk));
	return 0;
}

/* fires once per skb the send fills; the first firing of a turn is the start of the write */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(write_tp_btf, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal)
{
	writing((struct sock *)sk, bpf_get_socket_cookie((void *)sk));
	return 0;
}

/* ---- a segment leaves TCP ---- */

SEC("fentry/__tcp_transmit_skb")
int BPF_PROG(tx_fentry, struct sock *sk, struct sk_buff *skb, int clone_it, gfp_t gfp_mask, u32 rcv_nxt)
{
	struct tcp_skb_cb *tcb = (struct tcp_skb_cb *)&skb->cb[0];
	__u32 seq = BPF_CORE_READ(tcb, seq);
	__u32 end = BPF_CORE_READ(tcb, end_seq);
	__u8 flags = BPF_CORE_READ(tcb, tcp_flags);
	if (flags & TCPHDR_SYN)
		seq++;
	if (flags & TCPHDR_FIN)
		end--;
	on_transmit(bpf_get_socket_cookie(sk), seq, end, bpf_ktime_get_ns());
	return 0;
}

/* After the IP layer built the packet (ip_finish_output / ip6_finish_output): parse the TCP header. */
SEC("cgroup_skb/egress")
int tx_cgroup_skb(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	if (!conn_get(cookie))
		return 1;
	__u32 ip_len;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 vihl, proto;
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1) || proto != IPPROTO_TCP)
			return 1;
		ip_len = (vihl & 0x0f) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 next;
		if (bpf_skb_load_bytes(skb, 6, &next, 1) || next != IPPROTO_TCP)
			return 1; /* extension headers: not parsed */
		ip_len = 40;
	} else {
		return 1;
	}
	__u8 th[14];
	if (ip_len < 20 || ip_len > 60 || bpf_skb_load_bytes(skb, ip_len, th, sizeof(th)))
		return 1;
	__u32 seq = ((__u32)th[4] << 24) | ((__u32)th[5] << 16) | ((__u32)th[6] << 8) | th[7];
	__u32 th_len = (th[12] >> 4) * 4;
	if (skb->len < ip_len + th_len)
		return 1;
	__u32 payload = skb->len - ip_len - th_len;
	on_transmit(cookie, seq, seq + payload, bpf_ktime_get_ns());
	return 1;
}

/* ---- ageing: user space runs this (BPF_PROG_TEST_RUN) periodically ---- */

struct expire_ctx {
	__u64 now;
	__u64 live;
};

static long expire_one(struct bpf_map *map, struct exchange_key *key, struct app_exchange *ex, struct expire_ctx *c)
{
	__u64 last = ex->resp_write_ns > ex->req_last_ns ? ex->resp_write_ns : ex->req_last_ns;
	if (last < ex->req_first_ns)
		last = ex->req_first_ns;
	/* signed: another CPU may have updated the exchange after c->now was read */
	if ((__s64)(c->now - last) < (__s64)exchange_timeout_ns) {
		c->live++;
		return 0;
	}
	/* a written response whose segment was never seen still answered the request */
	emit(ex, ex->resp_write_ns ? APP_ANSWERED : APP_TIMEOUT, c->now);
	if (bpf_map_delete_elem(map, key) == 0)
		__sync_fetch_and_add(&pending_removed, 1);
	return 0;
}

SEC("raw_tp")
int expire_exchanges(void *ctx)
{
	struct expire_ctx c = {.now = bpf_ktime_get_ns()};
	__u64 inserted = *(volatile __u64 *)&pending_inserted;
	bpf_for_each_map_elem(&pending, expire_one, &c, 0);
	__s64 evicted = (__s64)(inserted - *(volatile __u64 *)&pending_removed - c.live);
	if (evicted > (__s64)pending_evicted)
		pending_evicted = evicted;
	return 0;
}
