/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Event of selftest.bpf.c. Java mirror: io.microbpf.core.SelftestEvent (core tests). */
#ifndef SELFTEST_H
#define SELFTEST_H

/* 64 bytes */
struct selftest_event {
	__u64 seq;     /* offset 0 */
	__u64 ts_ns;   /* offset 8: bpf_ktime_get_ns() */
	__u32 tag;     /* offset 16: knob_tag at load time */
	__u32 len;     /* offset 20: packet length seen by XDP */
	__u8 pad[40];  /* offset 24 */
};

#endif
