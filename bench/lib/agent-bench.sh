# Shared by bench/run-ack-overhead-bench.sh and bench/run-layer-overhead-bench.sh (sourced, not run):
# installs missing tools, mounts tracefs/bpffs, finds Java 17 and the built distribution, checks the
# agent's ports, sets the cleanup trap, creates the two namespaces and their veth pair, unpacks and
# starts the agent, and defines iperf_run, agent_cmd and probe_field.
# The sourcing script sets before: root work ns_a ns_b veth_a veth_b ip_a ip_b iperf_port ssh_port
# rmi_reg_port rmi_srv_port, die/info, the array need (tools to install), and
# BENCH_TRACEFS_WHY (why tracefs is needed) and BENCH_PORT_HINT (the env vars that move the ports).
if [ ${#need[@]} -gt 0 ]; then
  info "installing ${need[*]} (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } \
    || die "could not install ${need[*]} with apt-get"
fi
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing \
  || die "cannot mount tracefs at /sys/kernel/tracing (${BENCH_TRACEFS_WHY})"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs at /sys/fs/bpf"

if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"17[."]'; then
  JAVA_HOME=
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk* /usr/lib/jvm/*17*; do
    if [ -x "$d/bin/java" ]; then JAVA_HOME=$d; break; fi
  done
  [ -n "$JAVA_HOME" ] || die "no Java 17 JDK under /usr/lib/jvm (apt-get install -y openjdk-17-jdk-headless); Karaf 4.4 needs Java 17"
fi
export JAVA_HOME

tarball=
for f in "$root"/distribution/target/microbpf-distribution-*.tar.gz; do [ -f "$f" ] && tarball=$f; done
[ -n "$tarball" ] || die "no built distribution under $root/distribution/target; build it first: (cd $root && mvn -B -q install -DskipTests) or scripts/run-agent.sh"

for p in "$ssh_port" "$rmi_reg_port" "$rmi_srv_port"; do
  if ss -Hltn "sport = :$p" | grep -q .; then
    die "port $p is already in use on this host (another agent copy?); set ${BENCH_PORT_HINT}"
  fi
done

# ---------------------------------------------------------------- cleanup
agent_dir= agent_pid= bg_pids=() bpf_stats_orig=
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  [ -z "$bpf_stats_orig" ] || sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_orig" 2>/dev/null || true
  for p in "${bg_pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  if [ -n "$agent_dir" ] && [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    info "stopping the agent (pid $agent_pid)"
    "$agent_dir/bin/stop" >/dev/null 2>&1 || true
    for _ in $(seq 40); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$agent_pid" 2>/dev/null; then
      info "agent did not stop within 20 s: killing pid $agent_pid"
      kill "$agent_pid" 2>/dev/null || true; sleep 2; kill -9 "$agent_pid" 2>/dev/null || true
    fi
  fi
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- namespaces + veth
# iperf_run SECONDS LOG [RATE] : server (one test, -1) in ns_b, client in ns_a; JSON in LOG.json.
# Optional (unset by default): BENCH_CLIENT_CPUS / BENCH_SERVER_CPUS pin the client / server with
# taskset -c (the softirq work of a veth transfer runs mostly on the sending CPU). RATE: iperf3 -b.
iperf_run() {
  local s=$1 log=$2 r=${3:-} spid i pin_c=() pin_s=() extra=()
  [ -z "$r" ] || extra=(-b "$r")
  [ -z "${BENCH_CLIENT_CPUS:-}" ] || pin_c=(taskset -c "$BENCH_CLIENT_CPUS")
  [ -z "${BENCH_SERVER_CPUS:-}" ] || pin_s=(taskset -c "$BENCH_SERVER_CPUS")
  timeout $((s + 40)) ip netns exec "$ns_b" "${pin_s[@]}" iperf3 -s -1 -B "$ip_b" -p "$iperf_port" >"$log.server" 2>&1 &
  spid=$!; bg_pids+=("$spid")
  for i in $(seq 100); do
    ip netns exec "$ns_b" ss -Hltn "sport = :$iperf_port" | grep -q . && break
    sleep 0.05
  done
  timeout $((s + 30)) ip netns exec "$ns_a" "${pin_c[@]}" iperf3 -c "$ip_b" -p "$iperf_port" -t "$s" "${extra[@]}" -J >"$log.json" 2>"$log.client.err" || true
  for i in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
}

mkdir -p "$work"
rm -f "$work"/run-*
ip netns del "$ns_a" 2>/dev/null || true   # leftovers of an interrupted run of this script
ip netns del "$ns_b" 2>/dev/null || true
ip netns add "$ns_a" && ip netns add "$ns_b" || die "cannot create network namespaces $ns_a / $ns_b"
ip link add "$veth_a" netns "$ns_a" type veth peer name "$veth_b" netns "$ns_b" \
  || die "cannot create the veth pair $veth_a/$veth_b"
ip -n "$ns_a" addr add "$ip_a/24" dev "$veth_a"
ip -n "$ns_b" addr add "$ip_b/24" dev "$veth_b"
for n in "$ns_a" "$ns_b"; do ip -n "$n" link set lo up; done
ip -n "$ns_a" link set "$veth_a" up
ip -n "$ns_b" link set "$veth_b" up
iperf_run 1 "$work/run-check"
jq -e '.end.sum_received.bits_per_second' "$work/run-check.json" >/dev/null 2>&1 \
  || die "iperf3 $ip_a -> $ip_b over the veth pair failed: $(cat "$work/run-check.client.err" "$work/run-check.server" 2>/dev/null | tail -n3)"
info "veth $ns_a:$veth_a $ip_a <-> $ns_b:$veth_b $ip_b is up"

# ---------------------------------------------------------------- agent
agent_root=$work/agent
rm -rf "$agent_root"; mkdir -p "$agent_root"
tar -xzf "$tarball" -C "$agent_root" || die "cannot unpack $tarball"
agent_dir=$agent_root/$(basename "$tarball" .tar.gz)
[ -x "$agent_dir/bin/start" ] || die "$tarball did not unpack to $agent_dir"
sed -i "s/^sshPort *=.*/sshPort = $ssh_port/" "$agent_dir/etc/org.apache.karaf.shell.cfg"
sed -i -e "s/^rmiRegistryPort *=.*/rmiRegistryPort = $rmi_reg_port/" \
       -e "s/^rmiServerPort *=.*/rmiServerPort = $rmi_srv_port/" "$agent_dir/etc/org.apache.karaf.management.cfg"
grep -q "^sshPort = $ssh_port" "$agent_dir/etc/org.apache.karaf.shell.cfg" || die "could not set the SSH port in $agent_dir/etc"
info "starting the agent from $agent_dir (JAVA_HOME=$JAVA_HOME, SSH 127.0.0.1:$ssh_port)"
"$agent_dir/bin/start" >"$work/agent-start.log" 2>&1 || die "bin/start failed: $(tail -n3 "$work/agent-start.log")"

# agent_cmd CMD... : run shell commands in the agent through bin/client (bounded), stdout+stderr
agent_cmd() {
  printf '%s\n' "$@" | timeout 60 "$agent_dir/bin/client" -a "$ssh_port" -h 127.0.0.1 -u karaf -p karaf -b 2>&1 || true
}
# probe_field OUTPUT COLUMN [ID] : the ID row's (default ack) value in that column of a probe-list
# table; for HOOKS, continuation lines (empty ID cell) are appended
probe_field() {
  awk -F'|' -v col="$2" -v id="${3:-ack}" '
    function t(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    /^ *ID *\|/ { for (i = 1; i <= NF; i++) idx[t($i)] = i; inrow = 0; next }
    !(col in idx) { next }
    t($1) == id { v = t($idx[col]); inrow = 1; next }
    inrow && NF > 1 && t($1) == "" && col == "HOOKS" { v = v " " t($idx[col]); next }
    { inrow = 0 }
    END { print v }' <<<"$1"
}

# ---------------------------------------------------------------- kernel-side cost (bpf_stats)
# prog_ids : every loaded BPF program's id; prog_snap IDS... : lines "id type name run_cnt run_time_ns"
prog_ids() { bpftool prog show -j 2>/dev/null | jq -r '.[].id' | sort; }
prog_snap() {
  local ids; ids=$(printf '%s,' "$@"); ids="[${ids%,}]"
  bpftool prog show -j 2>/dev/null | jq -r --argjson ids "$ids" \
    '.[] | select(.id as $i | $ids | index($i)) | "\(.id) \(.type) \(.name // "-") \(.run_cnt // 0) \(.run_time_ns // 0)"'
}
stats_rows=()   # "cfg id type name calls calls_per_s ns_per_call cpu_ms"
# stats_measure CFG LOG IPERF_FN ID... : one IPERF_FN SECS LOG run with kernel.bpf_stats_enabled=1 (the
# kernel times every invocation of the programs ID...; that adds two clock reads per call, so such runs
# stay out of the throughput comparison). Appends a stats_rows line per program and sets stats_bpf_ns
# (their run time), stats_s0/stats_s1 (the calling script's sys_ticks before/after) and stats_gbps.
# Needs from the calling script: settle_s, secs, bpf_stats_orig, wait_idle, sys_ticks, now_ms, gbps.
stats_measure() {
  local cfg=$1 log=$2 iperf_fn=$3 a b id ty nm c0 n0 c1 n1 t0 t1
  shift 3
  sysctl -qw kernel.bpf_stats_enabled=1
  sleep "$settle_s"
  wait_idle
  prog_snap "$@" >"$log.before"
  read -r stats_s0 _ <<<"$(sys_ticks)"; t0=$(now_ms)
  "$iperf_fn" "$secs" "$log"
  read -r stats_s1 _ <<<"$(sys_ticks)"; t1=$(now_ms)
  prog_snap "$@" >"$log.after"
  sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_orig"
  stats_bpf_ns=0
  while read -r a; do
    read -r id ty nm c0 n0 <<<"$a"
    b=$(awk -v i="$id" '$1 == i' "$log.after"); [ -n "$b" ] || continue
    read -r _ _ _ c1 n1 <<<"$b"
    stats_bpf_ns=$((stats_bpf_ns + n1 - n0))
    stats_rows+=("$cfg $id $ty $nm $((c1 - c0)) $(awk -v c=$((c1 - c0)) -v n=$((n1 - n0)) -v w=$((t1 - t0)) \
      'BEGIN { printf "%.0f %.0f %.1f", 1000 * c / w, (c > 0) ? n / c : 0, n / 1e6 }')")
  done <"$log.before"
  stats_gbps=$(gbps "$(jq -r '.end.sum_received.bits_per_second // 0' "$log.json" 2>/dev/null || echo 0)")
}

# stats VALUES... -> "median min max count" (the values as given; "0 0 0 0" for none)
stats() {
  if [ $# -eq 0 ] || [ -z "${1:-}" ]; then echo "0 0 0 0"; return; fi
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%s %s %s %d\n", m, a[1], a[NR], NR }'
}
# median_ci VALUES... -> "lo hi coverage%": distribution-free confidence interval of the median from
# order statistics (sign test): [x(k), x(n-k+1)] with the largest k whose coverage is >= 90 %
median_ci() {
  if [ $# -lt 2 ]; then echo "n/a n/a 0"; return; fi
  printf '%s\n' "$@" | sort -g | awk '
    { a[NR] = $1 }
    END {
      n = NR; best = 0; cov = 0
      for (k = 1; 2 * k <= n; k++) {
        tail = 0                                  # P(B <= k-1), B ~ Bin(n, 1/2)
        for (j = 0; j < k; j++) { c = 1; for (i = 1; i <= j; i++) c = c * (n - j + i) / i; tail += c }
        tail = tail / 2 ^ n
        if (1 - 2 * tail >= 0.90) { best = k; cov = 100 * (1 - 2 * tail) }
      }
      if (best == 0) { print "n/a n/a 0"; exit }
      printf "%s %s %.0f\n", a[best], a[n - best + 1], cov
    }'
}
# paired_pct ROWS_NAME REPS REF CFG VALUE_FIELD STATUS_FIELD SIGN : per repetition 1..REPS in which both
# REF and CFG rows (rep in field 1, config in field 2) are ok, 100 * SIGN * (ref - cfg) / ref, one per
# line. SIGN 1 when a lower value is worse (throughput: positive = slower), -1 when a higher one is
# (CPU per GB: positive = more).
paired_pct() {
  local -n pp_rows=$1
  local rep b c
  for ((rep = 1; rep <= $2; rep++)); do
    b=$(printf '%s\n' "${pp_rows[@]:-}" | awk -v r="$rep" -v c="$3" -v f="$5" -v s="$6" '$1 == r && $2 == c && $s == "ok" { print $f }')
    c=$(printf '%s\n' "${pp_rows[@]:-}" | awk -v r="$rep" -v c="$4" -v f="$5" -v s="$6" '$1 == r && $2 == c && $s == "ok" { print $f }')
    [ -n "$b" ] && [ -n "$c" ] && awk -v b="$b" -v c="$c" -v g="$7" 'BEGIN { if (b > 0) printf "%.2f\n", 100 * g * (b - c) / b }'
  done
}
# pct_summary VALUES... -> "median min max n positive ci_lo ci_hi ci_cov" ("n/a n/a n/a 0 0 n/a n/a 0" for none)
pct_summary() {
  if [ $# -eq 0 ] || [ -z "${1:-}" ]; then echo "n/a n/a n/a 0 0 n/a n/a 0"; return; fi
  echo "$(stats "$@") $(printf '%s\n' "$@" | awk '$1 > 0' | wc -l) $(median_ci "$@")"
}

# wait_marker FILE PATTERN PID [TENTHS] : waits (at most TENTHS x 0.1 s, default 10 s) until FILE has a
# line matching PATTERN; false when PID (the process that writes it) ended first or the time ran out
wait_marker() {
  local i
  for i in $(seq "${4:-100}"); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "$2" "$1" 2>/dev/null
}
