// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-tx: time a transmitted TCP segment spends in each layer of the kernel (MicroBPF
 * "Transmitting packets", plus the QDISC layer the seed could not measure): TCP (the application's
 * bytes enter TCP -> ip_queue_xmit), IP (ip_queue_xmit -> dev_queue_xmit), QDISC (dev_queue_xmit ->
 * dequeued by the qdisc), MAC (-> dev_hard_start_xmit). Hooks in order of preference:
 *   TCP start: fentry/tcp_sendmsg_locked (the seed's tcp_write_queue_tail is inline),
 *              tp_btf/tcp_sendmsg_locked (per queued skb), raw_tracepoint/tcp_sendmsg_locked
 *   IP start:  fentry/ip_queue_xmit (+ fentry/inet6_csk_xmit), cgroup_skb/egress (ip_finish_output)
 *   dev queue: fentry/__dev_queue_xmit, tp_btf/net_dev_queue, tracepoint/net/net_dev_queue
 *   dequeue:   tp_btf/qdisc_dequeue, tracepoint/qdisc/qdisc_dequeue
 *   xmit:      fentry/dev_hard_start_xmit, tp_btf/net_dev_start_xmit, tracepoint/net/net_dev_start_xmit
 * Keys: the application's bytes by sequence number in a per-socket ring of write marks; from IP
 * start on by flow + seq + ack_seq (the cgroup hook has no skb pointer, and qdiscs/GSO replace skbs:
 * the first piece of a split packet keeps its seq).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "microbpf.h"
#include "microbpf_layer.h"
#include "tx.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* per sending socket, keyed by socket cookie (every TX hook has the socket) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct tx_sock);
} tx_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct seg_key);
	__type(value, struct tx_stamp);
} tx_segs SEC(".maps");

/* IP start -> dev_queue_xmit (same CPU, one call chain), by the network header's address */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << TX_IP_BITS);
	__type(key, __u32);
	__type(value, struct tx_slot);
} tx_ip SEC(".maps");

/* dev_queue_xmit -> qdisc_enqueue or dev_hard_start_xmit (same CPU), by the skb's address */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << TX_DEVQ_BITS);
	__type(key, __u32);
	__type(value, struct tx_slot);
} tx_devq SEC(".maps");

MICROBPF_EXPORT_STRUCT(tx_write);
MICROBPF_EXPORT_STRUCT(tx_sock);
MICROBPF_EXPORT_STRUCT(tx_stamp);

/* ---- TCP start: remember from which sequence number the application's bytes were queued when ---- */

static __always_inline int on_write(__u64 cookie, __u32 seq)
{
	if (!cookie)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct tx_sock *ts = bpf_map_lookup_elem(&tx_socks, &cookie);
	if (!ts) {
		static const struct tx_sock empty = {};
		bpf_map_update_elem(&tx_socks, &cookie, &empty, BPF_NOEXIST);
		ts = bpf_map_lookup_elem(&tx_socks, &cookie);
		if (!ts)
			return 0;
	}
	__u32 tail = ts->tail;
	if (tail != ts->head && ts->marks[(tail - 1) & (TX_RING - 1)].seq == seq)
		return 0; /* nothing new since the last mark */
	if (tail - ts->head >= TX_RING) {
		ts->head = tail - TX_RING + 1;
		layer_stat(TX_STAT_WRITES_LAPPED);
	}
	struct tx_write *w = &ts->marks[tail & (TX_RING - 1)];
	w->ts = now;
	w->seq = seq;
	ts->tail = tail + 1;
	return 0;
}

/* BTF-typed socket (fentry, tp_btf): direct loads, the socket cookie helper */
static __always_inline int on_write_btf(struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	return on_write(bpf_get_socket_cookie(sk), tp->write_seq);
}

SEC("fentry/tcp_sendmsg_locked")
int BPF_PROG(tx_write_fentry, struct sock *sk, struct msghdr *msg, size_t size)
{
	return on_write_btf(sk);
}

SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(tx_write_tp_btf, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal)
{
	return on_write_btf((struct sock *)sk);
}

/* raw pointer: the cookie the socket caches once a cookie-aware hook (cgroup egress) made it */
SEC("raw_tracepoint/tcp_sendmsg_locked")
int tx_write_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != LAYER_IPPROTO_TCP)
		return 0;
	return on_write(BPF_CORE_READ(sk, __sk_common.skc_cookie.counter),
			BPF_CORE_READ((struct tcp_sock *)sk, write_seq));
}

/* ---- IP start: the write mark covering the segment's first byte gives its TCP start ---- */

/* l3: low 32 bits of the address the network header has (or will have) */
static __always_inline int on_ip_start(struct pkt *p, __u64 cookie, __u32 l3)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 t_write = 0;
	if (p->payload > 0) {
		struct tx_sock *ts = cookie ? bpf_map_lookup_elem(&tx_socks, &cookie) : NULL;
		if (ts) {
			/* marks are in sequence order; move head to the last mark at or before seq */
			for (int i = 0; i < TX_RING; i++) {
				__u32 next = ts->head + 1;
				if (next == ts->tail)
					break;
				if ((__s32)(ts->marks[next & (TX_RING - 1)].seq - p->seq) > 0)
					break;
				ts->head = next;
			}
			struct tx_write *w = &ts->marks[ts->head & (TX_RING - 1)];
			if (ts->head != ts->tail && (__s32)(w->seq - p->seq) <= 0)
				t_write = w->ts;
		}
		if (!t_write) /* the TCP sample is taken at the driver, with the packet's other layers */
			layer_stat(TX_STAT_NO_WRITE);
	}
	__u32 i = slot_of(l3, TX_IP_BITS);
	struct tx_slot *s = bpf_map_lookup_elem(&tx_ip, &i);
	if (!s)
		return 0;
	if (s->live)
		layer_stat(TX_STAT_EVICTED_IP);
	s->key = l3;
	s->live = 1;
	s->t_write = t_write;
	s->t_ip = now;
	s->t_devq = 0;
	__builtin_memcpy(&s->flow, &p->flow, sizeof(s->flow));
	s->seq = p->seq;
	s->ack_seq = p->ack_seq;
	s->payload = p->payload;
	return 0;
}

static __always_inline int on_ip_start_sk(struct sock *sk, struct sk_buff *skb)
{
	/* ip_queue_xmit / inet6_csk_xmit: the TCP header is built, the IP header is not yet; it will sit
	 * right before data (options, rare, shift it: then dev_queue_xmit finds no entry, counted) */
	struct pkt p = {};
	if (!flow_of_sock(sk, true, &p.flow))
		return 0;
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 th_off = BPF_CORE_READ(skb, transport_header);
	struct tcphdr th;
	if (bpf_probe_read_kernel(&th, sizeof(th), head + th_off))
		return 0;
	p.seq = __builtin_bswap32(th.seq);
	p.ack_seq = __builtin_bswap32(th.ack_seq);
	__u32 len = BPF_CORE_READ(skb, len);
	p.payload = len > th.doff * 4u ? len - th.doff * 4u : 0;
	__u32 l3len = p.flow.family == MICROBPF_AF_INET6 ? 40 : 20;
	return on_ip_start(&p, bpf_get_socket_cookie(sk), ptr_lo32((__u64)(BPF_CORE_READ(skb, data) - l3len)));
}

SEC("fentry/ip_queue_xmit")
int BPF_PROG(tx_ip_fentry, struct sock *sk, struct sk_buff *skb, struct flowi *fl)
{
	return on_ip_start_sk(sk, skb);
}

SEC("fentry/inet6_csk_xmit")
int BPF_PROG(tx_ip6_fentry, struct sock *sk, struct sk_buff *skb, struct flowi *fl)
{
	return on_ip_start_sk(sk, skb);
}

SEC("cgroup_skb/egress")
int tx_ip_cgroup(struct __sk_buff *skb)
{
	__u32 l3 = ptr_lo32(skb->data); /* first: the verifier wants ctx loads from the unmodified ctx pointer */
	struct pkt p;
	int r = parse_cgroup_skb_direct(skb, &p);
	if (r < 0)
		r = parse_cgroup_skb(skb, &p);
	if (r > 0)
		on_ip_start(&p, bpf_get_socket_cookie(skb), l3); /* the sending socket's */
	return 1; /* observe only: always let the packet through */
}

/* ---- dev_queue_xmit: the packet's stamps follow its skb ---- */

/* skb_key: low 32 bits of the skb's address; l3: of its network header's */
static __always_inline int on_dev_queue(void *skbp, __u32 skb_key, __u32 l3)
{
	__u32 i = slot_of(l3, TX_IP_BITS);
	struct tx_slot *s = bpf_map_lookup_elem(&tx_ip, &i);
	if (!s || !s->live || s->key != l3) {
		/* not from the local TCP stack's IP start (or lost): count it if it is TCP at all */
		struct pkt p;
		if (parse_skb_nh((struct sk_buff *)skbp, &p))
			layer_stat(TX_STAT_NO_SEG_DEVQ);
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	s->live = 0;
	__u32 j = slot_of(skb_key, TX_DEVQ_BITS);
	struct tx_slot *d = bpf_map_lookup_elem(&tx_devq, &j);
	if (!d)
		return 0;
	if (d->live)
		layer_stat(TX_STAT_EVICTED_DEVQ);
	*d = *s;
	d->key = skb_key;
	d->live = 1;
	d->t_devq = now;
	return 0;
}

#define NH_LO32_BTF(skb) ptr_lo32((__u64)((skb)->head + (skb)->network_header))
#define NH_LO32_CORE(skb) ptr_lo32((__u64)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header)))

SEC("fentry/__dev_queue_xmit")
int BPF_PROG(tx_devq_fentry, struct sk_buff *skb, struct net_device *sb_dev)
{
	return on_dev_queue(skb, ptr_lo32((__u64)skb), NH_LO32_BTF(skb));
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(tx_devq_tp_btf, struct sk_buff *skb)
{
	return on_dev_queue(skb, ptr_lo32((__u64)skb), NH_LO32_BTF(skb));
}

SEC("tracepoint/net/net_dev_queue")
int tx_devq_tracepoint(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	return on_dev_queue(skb, ptr_lo32((__u64)skb), NH_LO32_CORE(skb));
}

/* ---- qdisc enqueue: the packet waits in a qdisc; from here on it is keyed by segment ---- */

static __always_inline int on_enqueue(__u32 skb_key)
{
	__u32 j = slot_of(skb_key, TX_DEVQ_BITS);
	struct tx_slot *d = bpf_map_lookup_elem(&tx_devq, &j);
	if (!d || !d->live || d->key != skb_key)
		return 0;
	d->live = 0;
	struct seg_key key;
	__builtin_memcpy(&key.flow, &d->flow, sizeof(key.flow));
	key.seq = d->seq;
	key.ack_seq = d->ack_seq;
	struct tx_stamp st = {.t_write = d->t_write, .t_ip = d->t_ip, .t_devq = d->t_devq};
	bpf_map_update_elem(&tx_segs, &key, &st, BPF_ANY);
	layer_stat(TX_STAT_INSERTED);
	layer_stat(TX_STAT_QUEUED);
	return 0;
}

SEC("tp_btf/qdisc_enqueue")
int BPF_PROG(tx_enq_tp_btf, struct Qdisc *q, const struct netdev_queue *txq, struct sk_buff *skb)
{
	return on_enqueue(ptr_lo32((__u64)skb));
}

SEC("tracepoint/qdisc/qdisc_enqueue")
int tx_enq_tracepoint(struct trace_event_raw_qdisc_enqueue *ctx)
{
	return on_enqueue(ptr_lo32((__u64)ctx->skbaddr));
}

/* ---- qdisc dequeue: stamp the segment's exit from the qdisc ---- */

static __always_inline int on_dequeue(struct pkt *pp)
{
	struct pkt p = *pp;
	struct seg_key key;
	key_of(&key, &p);
	struct tx_stamp *st = bpf_map_lookup_elem(&tx_segs, &key);
	if (!st || !st->t_devq || st->t_deq)
		return 0;
	st->t_deq = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(tx_deq_tp_btf, struct Qdisc *q, const struct netdev_queue *txq, int packets, struct sk_buff *skb)
{
	struct pkt p;
	if (!skb)
		return 0;
	return PARSE_SKB_NH_BTF(skb, &p) ? on_dequeue(&p) : 0;
}

SEC("tracepoint/qdisc/qdisc_dequeue")
int tx_deq_tracepoint(struct trace_event_raw_qdisc_dequeue *ctx)
{
	struct pkt p;
	if (!ctx->skbaddr)
		return 0;
	return parse_skb_nh((struct sk_buff *)ctx->skbaddr, &p) ? on_dequeue(&p) : 0;
}

/* ---- dev_hard_start_xmit: all of the packet's samples, with one lookup of the flow's histograms ---- */

static __always_inline void xmit_samples(struct tx_stamp *st, const struct flow_key *flow, __u32 seq, __u32 payload,
					 __u64 now)
{
	struct layer_knobs *k = layer_knobs();
	struct flow_hists *fh = layer_flow_hists(flow, k);
	if (st->t_write) /* data whose write was seen (pure ACKs have no TCP layer) */
		layer_sample(TX_TCP, st->t_ip - st->t_write, fh);
	layer_sample(TX_IP, st->t_devq - st->t_ip, fh);
	/* QDISC 0 for a packet that never waited in a queue (no qdisc, or the empty-queue bypass) */
	layer_sample(TX_QDISC, st->t_deq ? st->t_deq - st->t_devq : 0, fh);
	layer_sample(TX_MAC, now - (st->t_deq ? st->t_deq : st->t_devq), fh);
	if (!k || !k->events)
		return;
	__u32 hash = seg_hash(flow, seq);
	if (!sampled(k, hash))
		return;
	struct seg_event *e = microbpf_reserve(sizeof(*e));
	if (!e)
		return;
	e->ts[0] = st->t_write;
	e->ts[1] = st->t_ip;
	e->ts[2] = st->t_devq;
	e->ts[3] = st->t_deq;
	e->ts[4] = now;
	__builtin_memcpy(&e->flow, flow, sizeof(e->flow));
	e->seq = seq;
	e->len = payload;
	e->hash = hash;
	e->dir = 1;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	bpf_ringbuf_submit(e, 0);
	layer_stat(TX_STAT_EVENTS);
}

static __always_inline int on_xmit(struct sk_buff *skbp, __u32 skb_key, bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	/* fast path: straight from dev_queue_xmit on this CPU, same skb (no qdisc, or its bypass) */
	__u32 j = slot_of(skb_key, TX_DEVQ_BITS);
	struct tx_slot *d = bpf_map_lookup_elem(&tx_devq, &j);
	if (d && d->live && d->key == skb_key) {
		d->live = 0;
		struct tx_stamp st = {.t_write = d->t_write, .t_ip = d->t_ip, .t_devq = d->t_devq};
		xmit_samples(&st, &d->flow, d->seq, d->payload, now);
		return 0;
	}
	/* it waited in a qdisc (or is a later piece of a split GSO packet): by segment */
	struct pkt p;
	if (btf ? !PARSE_SKB_NH_BTF(skbp, &p) : !parse_skb_nh(skbp, &p))
		return 0;
	struct seg_key key;
	key_of(&key, &p);
	struct tx_stamp *stp = bpf_map_lookup_elem(&tx_segs, &key);
	if (!stp) {
		layer_stat(TX_STAT_NO_SEG_XMIT);
		return 0;
	}
	struct tx_stamp st = *stp;
	bpf_map_delete_elem(&tx_segs, &key);
	layer_stat(TX_STAT_CONSUMED);
	if (!st.t_devq)
		return 0;
	xmit_samples(&st, &p.flow, p.seq, p.payload, now);
	return 0;
}

SEC("fentry/dev_hard_start_xmit")
int BPF_PROG(tx_xmit_fentry, struct sk_buff *first, struct net_device *dev)
{
	return on_xmit(first, ptr_lo32((__u64)first), true);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(tx_xmit_tp_btf, const struct sk_buff *skb, const struct net_device *dev)
{
	return on_xmit((struct sk_buff *)skb, ptr_lo32((__u64)skb), true);
}

SEC("tracepoint/net/net_dev_start_xmit")
int tx_xmit_tracepoint(struct trace_event_raw_net_dev_start_xmit *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	return on_xmit(skb, ptr_lo32((__u64)skb), false);
}
