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

/* Stamps of a segment from IP start until it is handed to the driver (key: struct seg_key). */
struct tx_stamp {
	__u64 t_write;
	__u64 t_ip;
	__u64 t_devq;
	__u64 t_deq;
};

#endif
