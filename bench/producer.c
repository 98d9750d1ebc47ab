// SPDX-License-Identifier: GPL-2.0
/*
 * Ring-buffer benchmark: the producer.
 *
 * Loads ringbuf_producer.bpf.o, pins its maps
 *   <pin-dir>/events       BPF_MAP_TYPE_RINGBUF, 64-byte samples (72 bytes of ring space each)
 *   <pin-dir>/events_lost  1-entry ARRAY of u64, reservations that failed (ring full)
 * waits for "go", then runs the XDP program with BPF_PROG_TEST_RUN on a 64-byte dummy
 * Ethernet frame, `repeat` invocations per call, until N invocations (= N events, each
 * either submitted or counted as lost) have run. Prints one line
 *   produced=<n> submitted=<n> lost=<n> elapsed_ns=<n> rate_per_s=<x>
 * then unpins both maps and exits. Any consumer must have opened the pinned maps before
 * "go": once unpinned, they live on only as long as someone holds an fd.
 *
 * Every wait is bounded: no "go" within --go-timeout seconds, or a run longer than
 * --max-seconds, ends the run (exit code 2/3), and SIGINT/SIGTERM unpin and exit.
 *
 * Build: gcc -O2 -Wall -o producer producer.c -lbpf
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [options]\n"
		"  -n, --events N        events to produce (submitted + lost), default 20000000\n"
		"  -s, --ring-bytes B    ring buffer data size, power of 2 >= page size, default 16777216\n"
		"  -r, --repeat R        XDP invocations per BPF_PROG_TEST_RUN call, default 1000000\n"
		"  -o, --obj PATH        BPF object, default ./ringbuf_producer.bpf.o\n"
		"  -p, --pin-dir DIR     default /sys/fs/bpf/microbpf-bench\n"
		"      --ready-file F    created once the maps are pinned\n"
		"      --go-file F       start when F exists (default: when a line arrives on stdin)\n"
		"      --go-timeout S    give up waiting for go after S seconds, default 60\n"
		"      --max-seconds S   stop producing after S seconds, default 120\n",
		argv0);
}

static int ensure_bpffs(const char *pin_dir)
{
	struct statfs sfs;

	if (strncmp(pin_dir, "/sys/fs/bpf", 11) != 0)
		return 0; /* caller's responsibility */
	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpffs", "/sys/fs/bpf", "bpf", 0, NULL) != 0) {
		fprintf(stderr, "producer: bpffs not mounted at /sys/fs/bpf and mount failed: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static void unpin_all(const char *events_pin, const char *lost_pin, const char *pin_dir)
{
	unlink(events_pin);
	unlink(lost_pin);
	rmdir(pin_dir); /* only if empty */
}

static int wait_for_go(const char *go_file, int timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;

	if (go_file) {
		while (!stop) {
			if (access(go_file, F_OK) == 0)
				return 0;
			if (now_ns() > deadline)
				return -1;
			usleep(1000);
		}
		return -1;
	}
	/* a line on stdin (or EOF) means go */
	while (!stop) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int r = poll(&p, 1, 100);

		if (r > 0) {
			char buf[256];

			if (!fgets(buf, sizeof(buf), stdin) && ferror(stdin))
				return -1;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ns() > deadline)
			return -1;
	}
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t n_events = 20000000ull;
	unsigned long ring_bytes = 16ul * 1024 * 1024;
	unsigned int repeat = 1000000;
	const char *obj_path = "./ringbuf_producer.bpf.o";
	const char *pin_dir = "/sys/fs/bpf/microbpf-bench";
	const char *ready_file = NULL, *go_file = NULL;
	int go_timeout = 60, max_seconds = 120;
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, 'n' },
		{ "ring-bytes", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "obj", required_argument, NULL, 'o' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "ready-file", required_argument, NULL, 1 },
		{ "go-file", required_argument, NULL, 2 },
		{ "go-timeout", required_argument, NULL, 3 },
		{ "max-seconds", required_argument, NULL, 4 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char events_pin[PATH_MAX], lost_pin[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_map *events, *lost_map;
	int c, err, prog_fd, lost_fd, rc = 0;
	long page = sysconf(_SC_PAGESIZE);

	while ((c = getopt_long(argc, argv, "n:s:r:o:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n_events = strtoull(optarg, NULL, 10); break;
		case 's': ring_bytes = strtoul(optarg, NULL, 10); break;
		case 'r': repeat = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'o': obj_path = optarg; break;
		case 'p': pin_dir = optarg; break;
		case 1: ready_file = optarg; break;
		case 2: go_file = optarg; break;
		case 3: go_timeout = atoi(optarg); break;
		case 4: max_seconds = atoi(optarg); break;
		default: usage(argv[0]); return c == 'h' ? 0 : 1;
		}
	}
	if (n_events == 0 || repeat == 0 || ring_bytes < (unsigned long)page ||
	    (ring_bytes & (ring_bytes - 1)) != 0) {
		fprintf(stderr, "producer: need events > 0, repeat > 0, ring-bytes a power of 2 >= %ld\n", page);
		return 1;
	}
	snprintf(events_pin, sizeof(events_pin), "%s/events", pin_dir);
	snprintf(lost_pin, sizeof(lost_pin), "%s/events_lost", pin_dir);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (ensure_bpffs(pin_dir))
		return 1;

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		fprintf(stderr, "producer: open %s: %s\n", obj_path, strerror(errno));
		return 1;
	}
	events = bpf_object__find_map_by_name(obj, "events");
	lost_map = bpf_object__find_map_by_name(obj, "events_lost");
	prog = bpf_object__find_program_by_name(obj, "ringbuf_produce");
	if (!events || !lost_map || !prog) {
		fprintf(stderr, "producer: %s lacks events / events_lost / ringbuf_produce\n", obj_path);
		rc = 1;
		goto out;
	}
	err = bpf_map__set_max_entries(events, (__u32)ring_bytes);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "producer: load: %s\n", strerror(-err));
		rc = 1;
		goto out;
	}
	prog_fd = bpf_program__fd(prog);
	lost_fd = bpf_map__fd(lost_map);

	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "producer: mkdir %s: %s\n", pin_dir, strerror(errno));
		rc = 1;
		goto out;
	}
	unlink(events_pin); /* stale pins of an earlier, killed run */
	unlink(lost_pin);
	if ((err = bpf_map__pin(events, events_pin)) || (err = bpf_map__pin(lost_map, lost_pin))) {
		fprintf(stderr, "producer: pin: %s\n", strerror(-err));
		rc = 1;
		goto unpin;
	}
	fprintf(stderr, "producer: pinned %s and %s (ring %lu bytes), waiting for go\n",
		events_pin, lost_pin, ring_bytes);
	if (ready_file) {
		FILE *f = fopen(ready_file, "w");

		if (f)
			fclose(f);
	}

	if (wait_for_go(go_file, go_timeout)) {
		fprintf(stderr, "producer: no go within %d s (or interrupted), exiting\n", go_timeout);
		rc = 2;
		goto unpin;
	}

	{
		/* 64-byte dummy Ethernet frame: broadcast dst, locally administered src, IPv4 ethertype */
		unsigned char frame[64] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
			0x08, 0x00,
		};
		uint64_t done = 0, t0, t1, lost = 0;
		uint64_t deadline;
		__u32 zero = 0;

		t0 = now_ns();
		deadline = t0 + (uint64_t)max_seconds * 1000000000ull;
		while (done < n_events && !stop) {
			uint64_t left = n_events - done;
			LIBBPF_OPTS(bpf_test_run_opts, opts,
				.data_in = frame,
				.data_size_in = sizeof(frame),
				.repeat = left < repeat ? (__u32)left : repeat,
			);

			err = bpf_prog_test_run_opts(prog_fd, &opts);
			if (err) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "producer: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			done += opts.repeat;
			if (now_ns() > deadline) {
				fprintf(stderr, "producer: --max-seconds %d reached\n", max_seconds);
				rc = 3;
				break;
			}
		}
		t1 = now_ns();
		if (bpf_map_lookup_elem(lost_fd, &zero, &lost))
			fprintf(stderr, "producer: reading events_lost: %s\n", strerror(errno));
		printf("produced=%llu submitted=%llu lost=%llu elapsed_ns=%llu rate_per_s=%.1f\n",
		       (unsigned long long)done, (unsigned long long)(done - lost),
		       (unsigned long long)lost, (unsigned long long)(t1 - t0),
		       t1 > t0 ? (double)done * 1e9 / (double)(t1 - t0) : 0.0);
	}

unpin:
	unpin_all(events_pin, lost_pin, pin_dir);
out:
	bpf_object__close(obj);
	return rc;
}
