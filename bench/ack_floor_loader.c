// Loads ack_floor.bpf.o, attaches every program (tp_btf automatically, sockops to the cgroup v2 root),
// prints "attached" and holds the links until SIGINT/SIGTERM (or the optional timeout in seconds).
// usage: ack_floor_loader OBJECT CGROUP_DIR [TIMEOUT_S [PROGRAM...]]
// With PROGRAM names only those are loaded and attached (e.g. the hook programs of an older ack.bpf.o,
// for a same-run bpf_stats comparison; 0 = no timeout).
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECT CGROUP_DIR [TIMEOUT_S [PROGRAM...]]\n", argv[0]);
		return 2;
	}
	int timeout_s = argc > 3 ? atoi(argv[3]) : 0;
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) { fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno)); return 1; }
	struct bpf_program *p;
	if (argc > 4) {
		bpf_object__for_each_program(p, obj) {
			int wanted = 0;
			for (int i = 4; i < argc; i++)
				wanted |= strcmp(bpf_program__name(p), argv[i]) == 0;
			bpf_program__set_autoload(p, wanted);
		}
	}
	if (bpf_object__load(obj)) { fprintf(stderr, "load %s failed\n", argv[1]); return 1; }
	int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0) { fprintf(stderr, "open %s: %s\n", argv[2], strerror(errno)); return 1; }
	int n = 0;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		struct bpf_link *l = bpf_program__type(p) == BPF_PROG_TYPE_SOCK_OPS
			? bpf_program__attach_cgroup(p, cg) : bpf_program__attach(p);
		if (!l) { fprintf(stderr, "attach %s: %s\n", bpf_program__name(p), strerror(errno)); return 1; }
		n++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d programs\n", n);
	fflush(stdout);
	for (int s = 0; !stop && (timeout_s == 0 || s < timeout_s * 10); s++)
		usleep(100000);
	bpf_object__close(obj); /* the links' fds close at exit: that detaches the programs */
	return 0;
}
