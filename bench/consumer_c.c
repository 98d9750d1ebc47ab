// SPDX-License-Identifier: GPL-2.0
/*
 * Ring-buffer benchmark: the reference consumer, libbpf's ring_buffer__poll.
 *
 * usage: consumer_c <pinned events map> <pinned events_lost map> <expected events>
 *
 * Same contract as the Java consumer io.microbpf.bench.RingBufferBench:
 *   - opens both pinned maps at startup (the producer unpins them when it exits),
 *     then reports "consumer: ready" on stderr;
 *   - consumes 64-byte samples { u64 seq; u64 ts_ns; u8 pad[48]; }, counts them and
 *     checks the sequence: gaps = number of records whose seq != previous seq + 1
 *     (the first record is expected to carry seq 0);
 *   - stops when events + lost >= expected, or 2 s after the last event with nothing
 *     new, or 60 s after start without any event;
 *   - prints exactly one line on stdout:
 *       events=<n> lost=<n> gaps=<n> elapsed_ns=<n> rate_per_s=<x>
 *     lost = events_lost[0] read at the end; elapsed_ns = from the moment the first
 *     event was seen to the end of the batch that held the last one;
 *     rate_per_s = events * 1e9 / elapsed_ns.
 * Exit code 0 if events + lost == expected and gaps == 0, else 1.
 *
 * Build: gcc -O2 -Wall -o consumer_c consumer_c.c -lbpf
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define POLL_MS 100
#define IDLE_NS (2000ull * 1000000ull)
#define START_TIMEOUT_NS (60000ull * 1000000ull)

struct bench_event {
	uint64_t seq;
	uint64_t ts_ns;
	uint8_t pad[48];
};

struct state {
	uint64_t events;
	uint64_t gaps;
	uint64_t next_seq;
	uint64_t first_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct state *st = ctx;
	const struct bench_event *e = data;

	if (st->events == 0)
		st->first_ns = now_ns();
	if (size < sizeof(uint64_t) || e->seq != st->next_seq)
		st->gaps++;
	if (size >= sizeof(uint64_t))
		st->next_seq = e->seq + 1;
	st->events++;
	return 0;
}

static uint64_t read_lost(int fd)
{
	uint32_t zero = 0;
	uint64_t v = 0;

	if (bpf_map_lookup_elem(fd, &zero, &v))
		return 0;
	return v;
}

int main(int argc, char **argv)
{
	struct state st = { 0 };
	struct ring_buffer *rb;
	uint64_t expected, lost = 0, start, last_ns = 0;
	int events_fd, lost_fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s <pinned events map> <pinned events_lost map> <expected events>\n",
			argv[0]);
		return 2;
	}
	expected = strtoull(argv[3], NULL, 10);
	events_fd = bpf_obj_get(argv[1]);
	if (events_fd < 0) {
		fprintf(stderr, "consumer: bpf_obj_get %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	lost_fd = bpf_obj_get(argv[2]);
	if (lost_fd < 0) {
		fprintf(stderr, "consumer: bpf_obj_get %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	rb = ring_buffer__new(events_fd, on_event, &st, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new: %s\n", strerror(errno));
		return 2;
	}
	fprintf(stderr, "consumer: ready\n");

	start = now_ns();
	for (;;) {
		int n = ring_buffer__poll(rb, POLL_MS);
		uint64_t t;

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "consumer: ring_buffer__poll: %s\n", strerror(-n));
			break;
		}
		t = now_ns();
		if (n > 0) {
			last_ns = t;
			if (st.events < expected)
				continue;
			break;
		}
		/* nothing within POLL_MS: are we done? */
		lost = read_lost(lost_fd);
		if (st.events + lost >= expected)
			break;
		if (st.events == 0 ? t - start > START_TIMEOUT_NS : t - last_ns > IDLE_NS)
			break;
	}
	lost = read_lost(lost_fd);
	{
		uint64_t elapsed = st.events ? last_ns - st.first_ns : 0;

		printf("events=%llu lost=%llu gaps=%llu elapsed_ns=%llu rate_per_s=%.1f\n",
		       (unsigned long long)st.events, (unsigned long long)lost,
		       (unsigned long long)st.gaps, (unsigned long long)elapsed,
		       elapsed ? (double)st.events * 1e9 / (double)elapsed : 0.0);
	}
	ring_buffer__free(rb);
	return st.events + lost == expected && st.gaps == 0 ? 0 : 1;
}
