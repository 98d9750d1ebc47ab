// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loads a BPF object and attaches the named programs (all of them if none is named) at their
 * section's hook: tracing programs (tp_btf, raw_tp, tracepoint) through bpf_program__attach,
 * cgroup_skb programs on a cgroup v2 directory. Stays attached until stdin reaches EOF or a
 * SIGTERM/SIGINT arrives, then detaches everything (the links and the object are closed).
 *
 * usage: layer_attach OBJ [--cgroup DIR] [--no-stdin] [PROG...]
 * (--no-stdin: ignore stdin, stay attached until SIGTERM/SIGINT)
 * prints "attached N" on stdout once every program is attached; exits 1 with a message otherwise.
 * Used by bench/run-layer-overhead-bench.sh (the "floor" configuration: layer_floor.bpf.o) and by
 * bench/layer-bpf-stats.sh (ns per call of the real rx/tx programs without the agent).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	const char *cgroup = "/sys/fs/cgroup/unified";
	const char *path = NULL;
	char **names = calloc(argc, sizeof(char *));
	int n_names = 0, use_stdin = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cgroup") && i + 1 < argc)
			cgroup = argv[++i];
		else if (!strcmp(argv[i], "--no-stdin"))
			use_stdin = 0;
		else if (!path)
			path = argv[i];
		else
			names[n_names++] = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: %s OBJ [--cgroup DIR] [PROG...]\n", argv[0]);
		return 1;
	}
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "layer_attach: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct bpf_program *p;
	/* load only the named programs */
	bpf_object__for_each_program(p, obj) {
		int want = n_names == 0;
		for (int i = 0; i < n_names; i++)
			want |= !strcmp(bpf_program__name(p), names[i]);
		bpf_program__set_autoload(p, want);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "layer_attach: cannot load %s: %s\n", path, strerror(errno));
		return 1;
	}
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct bpf_link *links[64];
	int n = 0;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		enum bpf_attach_type t = bpf_program__expected_attach_type(p);
		struct bpf_link *l;
		if (t == BPF_CGROUP_INET_INGRESS || t == BPF_CGROUP_INET_EGRESS) {
			if (cg < 0) {
				fprintf(stderr, "layer_attach: cannot open cgroup %s: %s\n", cgroup, strerror(errno));
				return 1;
			}
			l = bpf_program__attach_cgroup(p, cg);
		} else {
			l = bpf_program__attach(p);
		}
		if (!l) {
			fprintf(stderr, "layer_attach: cannot attach %s: %s\n", bpf_program__name(p), strerror(errno));
			return 1;
		}
		if (n < 64)
			links[n++] = l;
	}
	printf("attached %d\n", n);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	char buf[256];
	while (!stop) {
		struct pollfd pfd = {.fd = use_stdin ? 0 : -1, .events = POLLIN};
		int r = poll(&pfd, 1, 500);
		if (use_stdin && r > 0 && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	if (cg >= 0)
		close(cg);
	return 0;
}
