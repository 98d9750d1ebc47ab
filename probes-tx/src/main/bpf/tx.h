/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * probes-tx: layers, counters and per-socket state of tx.bpf.c. The records and histograms are the
 * shared ones of microbpf_layer.h (Java mirrors in io.microbpf.probe.layer).
 */
#ifndef TX_H
#define TX_H

/* layers (index into layer_hist) */
#define TX_TCP 0   /* handed to TCP by the application -> IP start (ip_queue_xmit / cgroup egress) */
#define TX_IP 1    /* IP start -> dev_queue_xmit */
#define TX_QDISC 2 /* dev_queue_xmit -> dequeued from the qdisc (0 when it bypassed or there is none) */
#define TX_MAC 3   /* left the qdisc (or dev_queue_xmit) -> dev_hard_start_xmit */

/* layer_stats indices: Java mirror TxProbeComponent.STATS */
#define TX_STAT_NO_WRITE 0    /* data segment at IP start whose bytes were written before the probe saw them */
#define TX_STAT_NO_SEG_DEVQ 1 /* TCP packet at dev_queue_xmit with no IP-start entry */
#define TX_STAT_NO_SEG_XMIT 2 /* TCP packet at dev_hard_start_xmit with no entry (incl. later pieces of a GSO packet split below TCP) */
#define TX_STAT_INSERTED 3    /* segment entries inserted at IP start (evicted = inserted - consumed - live) */
#define TX_STAT_CONSUMED 4
#define TX_STAT_EVENTS 5      /* records submitted (events mode) */
#define TX_STAT_WRITES_LAPPED 6 /* write marks overwritten before their bytes were sent (ring full) */
#define TX_STAT_EVICTED_IP 7  /* IP-start entries overwritten before dev_queue_xmit (slot reused) */
#define TX_STAT_EVICTED_DEVQ 8 /* dev_queue_xmit entries overwritten before the qdisc or the driver took the skb */
#define TX_STAT_QUEUED 9      /* packets that entered a qdisc (moved to tx_segs, keyed by segment) */

/* Direct-mapped per-CPU in-flight tables (log2 slots per CPU), small on purpose (see rx.h): IP
 * start -> dev_queue_xmit is one call chain on one CPU (key: the network header's address);
 * dev_queue_xmit -> dev_hard_start_xmit is too when the packet enters no qdisc (noqueue, or the
 * empty-queue bypass; key: the skb's address). A packet that enters a qdisc (qdisc_enqueue) moves
 * to the tx_segs hash, keyed by segment, because it may leave from another CPU, and qdiscs like TBF
 * split GSO packets into new skbs (the first piece keeps the segment's seq). */
#define TX_IP_BITS 6
#define TX_DEVQ_BITS 6

#define TX_RING 256 /* power of two */

/* Where the application's bytes entered TCP: bytes from seq on were handed over at ts. */
struct tx_write {
	__u64 ts;
	__u32 seq;
	__u32 pad;
};

/* Per socket (key: socket cookie), in an LRU hash. */
struct tx_sock {
	__u32 head; /* oldest mark still needed (free-running) */
	__u32 tail; /* next to write */
	struct tx_write marks[TX_RING];
};

/* A TCP packet from IP start on, in the per-CPU tables (key: low 32 bits of an address). */
struct tx_slot {
	__u32 key;
	__u32 live;  /* 1 until consumed by the next boundary */
	__u64 t_write;
	__u64 t_ip;
	__u64 t_devq;
	struct flow_key flow;
	__u32 seq;
	__u32 ack_seq;
	__u32 payload;
	__u32 pad;
};

/* Stamps of a segment in a qdisc until it is handed to the driver (key: struct seg_key). */
struct tx_stamp {
	__u64 t_write;
	__u64 t_ip;
	__u64 t_devq;
	__u64 t_deq;
};

#endif
