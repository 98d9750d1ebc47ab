#!/usr/bin/env bash
# Throughput cost of the MicroBPF "ack" probe: iperf3 over a veth pair between two network
# namespaces, with the probe attached vs. not, in the same run, interleaved, several repetitions; the
# same with empty programs on exactly the probe's hooks ("floor": the cost of attachment alone) and
# with bpftrace counting tcp:tcp_probe as a peer figure. Target (issue 3): probe cost <= 3 % of throughput.
#
# The agent (the built distribution, unpacked into bench/build/ack-overhead/agent with its own SSH
# port) runs during every configuration, so only what is attached differs:
#   baseline  agent running, probe stopped (microbpf:probe-stop ack)
#   probe     probe attached (microbpf:probe-start ack): whatever hooks the ack probe picks at run
#             time; the hook list from microbpf:probe-list goes into the report
#   floor     probe stopped + bench/ack_floor.bpf.c: empty programs on the probe's hooks (tp_btf
#             inet_sock_set_state, tcp_probe, tcp_retransmit_skb, sock_recv_length, sock_send_length;
#             sockops on the cgroup v2 root enabling RTT_CB like the probe), loaded by ack_floor_loader
#   bpftrace  probe stopped + bpftrace -e 'tracepoint:tcp:tcp_probe { @n = count(); }'
# Phase 1 (throughput): per repetition all four configurations, the order rotated by one per
# repetition (each configuration takes each position equally often over 4 repetitions); one unrecorded
# warm-up run first. iperf3 -c ... -t S -J, no rate limit (CPU-bound: the worst case for the probe).
# Phase 2 (CPU per GB): baseline, probe and floor at a fixed rate below the CPU limit (iperf3 -b RATE),
# rotated per repetition; CPU time = CPUs x wall time - (idle + iowait) of /proc/stat over the iperf3 window,
# divided by the bytes the receiver got. At a fixed rate the cost shows as CPU time, not throughput,
# and the machine is not saturated, so this figure is much less noisy than phase 1.
# Phase 3 (bpf_stats): one extra run each for probe, floor and bpftrace with kernel.bpf_stats_enabled=1:
# per-program calls, ns/call, and the programs' share of busy CPU time.
# Before every measured run: a bounded wait for an idle machine (1 s samples of /proc/stat until the
# busy share of all CPUs is <= --idle-pct, at most --idle-wait-s); the busy share seen and the time
# waited are recorded per run. With --pin (default) the iperf3 client runs on CPU 0 and the server on
# CPU 1 (taskset; with one CPU both on CPU 0): no scheduler migrations between runs.
# Prints tables and replaces the section between
#   <!-- ack-overhead:start --> and <!-- ack-overhead:end -->
# of docs/PERFORMANCE.md (appended at the end if the markers are absent), unless --no-doc.
#
# usage: bench/run-ack-overhead-bench.sh [--reps N] [--rate-reps N] [--seconds S] [--rate R]
#          [--settle-s S] [--idle-pct P] [--idle-wait-s S] [--no-pin] [--budget-s S] [--no-doc]
#   --reps N        phase-1 repetitions of the four configurations (default 8)
#   --rate-reps N   phase-2 repetitions of baseline/probe/floor (default 6; 0 skips phase 2)
#   --seconds S     iperf3 duration per run (default 5)
#   --rate R        phase-2 iperf3 rate (-b), below the CPU limit (default 5G)
#   --settle-s S    pause after a probe-start/stop or an attach before the idle wait (default 2)
#   --idle-pct P    busy share of all CPUs (%) under which the machine counts as idle (default 15)
#   --idle-wait-s S longest wait for an idle machine before a run (default 60; then the run goes on,
#                   is shown with status "busy" and left out of the statistics)
#   --no-pin        do not pin iperf3 client and server to CPUs
#   --min-snd-cpu P a phase-1 run whose iperf3 sender used less than P % of a CPU (default 80; an
#                   undisturbed CPU-bound sender uses 95-99 %) had other work start during it: it is
#                   shown with status "disturbed" and left out of the statistics
#   --budget-s S    start no new phase-1/2 repetition after S seconds since the script started (default 1200)
#   --old-object F  also measure, in the bpf_stats phase only, the hook programs of F (an ack.bpf.o
#                   built from an earlier commit, loaded standalone by ack_floor_loader): "old" rows
#   --no-doc        do not touch docs/PERFORMANCE.md
# Needs root, the built distribution (distribution/target/microbpf-distribution-*.tar.gz: run
# `mvn -B -q install -DskipTests` or scripts/run-agent.sh once), a Java 17 JDK, iproute2, clang, gcc,
# libbpf-dev (for the floor programs); installs iperf3, bpftrace and jq with apt-get when missing.
# Env: ACK_BENCH_SSH_PORT (default 8111), ACK_BENCH_RMI_PORTS ("1109 44454"): the agent copy's
#      ports, chosen so that it does not collide with an agent started by scripts/run-agent.sh.
#
# Everything is bounded: each iperf3 run is killed after S+30 s, the server after S+40 s, bpftrace
# and the floor loader after S+90 s (+ the idle wait), every bin/client call after 60 s; the agent is
# stopped, the namespaces deleted and every process this script started is ended on exit (also on
# Ctrl-C or an error).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$here/build/ack-overhead
ns_a=mbpf-bench-a ns_b=mbpf-bench-b
veth_a=mbpf-bench-va veth_b=mbpf-bench-vb
ip_a=10.201.0.1 ip_b=10.201.0.2
iperf_port=5201
ssh_port=${ACK_BENCH_SSH_PORT:-8111}
read -r rmi_reg_port rmi_srv_port <<<"${ACK_BENCH_RMI_PORTS:-1109 44454}"
bt_prog='tracepoint:tcp:tcp_probe { @n = count(); }'

min_snd_cpu=80 old_obj= reps=8 rate_reps=6 secs=5 rate=5G settle_s=2 idle_pct=15 idle_wait_s=60 pin=1 budget_s=1200 write_doc=1
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=${2:?--reps needs a value}; shift ;;
    --rate-reps) rate_reps=${2:?--rate-reps needs a value}; shift ;;
    --seconds) secs=${2:?--seconds needs a value}; shift ;;
    --rate) rate=${2:?--rate needs a value}; shift ;;
    --settle-s) settle_s=${2:?--settle-s needs a value}; shift ;;
    --idle-pct) idle_pct=${2:?--idle-pct needs a value}; shift ;;
    --idle-wait-s) idle_wait_s=${2:?--idle-wait-s needs a value}; shift ;;
    --no-pin) pin=0 ;;
    --min-snd-cpu) min_snd_cpu=${2:?--min-snd-cpu needs a value}; shift ;;
    --budget-s) budget_s=${2:?--budget-s needs a value}; shift ;;
    --no-doc) write_doc=0 ;;
    --old-object) old_obj=${2:?--old-object needs a file}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

die() { echo "ERROR: $*" >&2; exit 1; }
info() { echo "ack-bench: $*" >&2; }
now_ms() { date +%s%3N; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
script_start=$(now_ms)

is_uint "$reps" && (( reps >= 1 )) || die "--reps must be a positive integer (got '$reps')"
is_uint "$rate_reps" || die "--rate-reps must be a non-negative integer (got '$rate_reps')"
is_uint "$secs" && (( secs >= 1 )) || die "--seconds must be a positive integer (got '$secs')"
[[ $rate =~ ^[0-9]+(\.[0-9]+)?[KMG]?$ ]] || die "--rate must be an iperf3 rate like 5G or 800M (got '$rate')"
[[ $settle_s =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--settle-s must be a number of seconds (got '$settle_s')"
is_uint "$idle_pct" && (( idle_pct <= 100 )) || die "--idle-pct must be an integer 0..100 (got '$idle_pct')"
is_uint "$idle_wait_s" || die "--idle-wait-s must be a non-negative integer (got '$idle_wait_s')"
is_uint "$budget_s" || die "--budget-s must be a non-negative integer (got '$budget_s')"
[ -z "$old_obj" ] || [ -f "$old_obj" ] || die "--old-object: no file $old_obj"
[ "$(uname -s)" = Linux ] || die "Linux only"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF, bpftrace); try: sudo $0"
command -v clang >/dev/null || die "clang not found (apt-get install -y clang llvm libbpf-dev): needed for the floor programs"
command -v gcc >/dev/null || die "gcc not found: needed for the floor loader"
command -v taskset >/dev/null || pin=0

# ---------------------------------------------------------------- tools
need=()
for t in iperf3:iperf3 bpftrace:bpftrace jq:jq ip:iproute2; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
BENCH_TRACEFS_WHY="bpftrace tracepoints need it"
BENCH_PORT_HINT="ACK_BENCH_SSH_PORT / ACK_BENCH_RMI_PORTS"
# tools, Java, distribution, ports, cleanup trap, namespaces + veth, agent start, helpers
source "$root/bench/lib/agent-bench.sh"

agent_pid=
for _ in $(seq 60); do   # up to ~120 s: pid file, then the probe RUNNING
  if [ -z "$agent_pid" ] && [ -s "$agent_dir/karaf.pid" ]; then agent_pid=$(tr -dc 0-9 <"$agent_dir/karaf.pid"); fi
  if [ -n "$agent_pid" ]; then
    kill -0 "$agent_pid" 2>/dev/null || die "the agent (pid $agent_pid) exited during start-up; see $agent_dir/data/log/karaf.log"
    out=$(agent_cmd 'microbpf:probe-list')
    [ "$(probe_field "$out" STATE)" = RUNNING ] && break
  fi
  sleep 2
done
[ -n "$agent_pid" ] || die "the agent wrote no $agent_dir/karaf.pid within 120 s (see $work/agent-start.log)"
[ "$(probe_field "$out" STATE)" = RUNNING ] \
  || die "the ack probe is not RUNNING after 120 s; last probe-list:"$'\n'"$out"$'\n'"(see $agent_dir/data/log/karaf.log)"
hooks=$(probe_field "$out" HOOKS)
probe_list_running=$(grep -E '\||^-+\+' <<<"$out" || echo "$out")
# -v adds why each rejected hook candidate was rejected (lines naming the ack probe, outside the table)
rejected=$(agent_cmd 'microbpf:probe-list -v' | grep -E '^ack ' | grep -v '|' | sed 's/ *\[libbpf.*//' | cut -c1-200 || true)
info "agent pid $agent_pid; ack probe RUNNING with hooks: $hooks"

clk_tck=$(getconf CLK_TCK)
ncpu=$(nproc)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }   # utime+stime (fields 14, 15)
# cumulative "busy ms total ms" of all CPUs: total = CPUs x wall clock, busy = total - (idle + iowait)
# of /proc/stat. With NO_HZ the kernel measures idle time exactly (ktime at idle entry/exit), while
# user/system/softirq are tick samples (HZ=250 here) that alias with iperf3's 1 ms pacing bursts:
# at a fixed rate, the tick fields were off by a factor 3 between identical runs.
sys_ticks() { awk -v n="$ncpu" -v hz="$clk_tck" -v now="$(now_ms)" '/^cpu / { idle = ($5 + $6) * 1000 / hz; printf "%.0f %.0f\n", n * now - idle, n * now; exit }' /proc/stat; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- floor programs
floor_obj=$work/ack_floor.bpf.o floor_loader=$work/ack_floor_loader floor_cgroup=/sys/fs/cgroup/unified
[ -d "$floor_cgroup" ] || floor_cgroup=/sys/fs/cgroup
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I "$root/bpf/include" -I/usr/include/x86_64-linux-gnu \
  -c "$here/ack_floor.bpf.c" -o "$floor_obj" || die "cannot compile $here/ack_floor.bpf.c"
gcc -O2 -Wall -Wextra -Werror -o "$floor_loader" "$here/ack_floor_loader.c" -lbpf || die "cannot build $here/ack_floor_loader.c (libbpf-dev?)"

# ---------------------------------------------------------------- pinned iperf3 (iperf_run of bench/lib)
if [ "$pin" = 1 ]; then
  export BENCH_CLIENT_CPUS=0 BENCH_SERVER_CPUS=$(( ncpu > 1 ? 1 : 0 ))
  pin_desc="client pinned to CPU $BENCH_CLIENT_CPUS, server to CPU $BENCH_SERVER_CPUS (taskset)"
else
  unset BENCH_CLIENT_CPUS BENCH_SERVER_CPUS; pin_desc="not pinned"
fi

# wait_idle : 1 s samples of /proc/stat until the busy share of all CPUs is <= idle_pct or
# idle_wait_s have passed; sets idle_bg (busy % of the last sample) and idle_waited (s)
wait_idle() {
  local s0 s0t s1 s1t t_start; t_start=$(now_ms)
  while true; do
    read -r s0 s0t <<<"$(sys_ticks)"; sleep 1; read -r s1 s1t <<<"$(sys_ticks)"
    idle_bg=$(awk -v b=$((s1 - s0)) -v t=$((s1t - s0t)) 'BEGIN { printf "%.0f", (t > 0) ? 100 * b / t : 0 }')
    idle_waited=$(( ($(now_ms) - t_start) / 1000 ))
    (( idle_bg <= idle_pct )) && return 0
    (( idle_waited >= idle_wait_s )) && return 0
  done
}

probe_state=RUNNING probe_out=
# set_probe RUNNING|STOPPED : toggles the probe through bin/client; probe_out = probe-list after it
set_probe() {
  local want=$1
  if [ "$probe_state" = "$want" ]; then
    probe_out=$(agent_cmd 'microbpf:probe-list')
  elif [ "$want" = RUNNING ]; then
    probe_out=$(agent_cmd 'microbpf:probe-start ack' 'microbpf:probe-list')
  else
    probe_out=$(agent_cmd 'microbpf:probe-stop ack' 'microbpf:probe-list')
  fi
  probe_state=$(probe_field "$probe_out" STATE)
  probe_state=${probe_state:-unknown}
}

# start_extra CONFIG LOG : for bpftrace / floor, starts the attaching process and waits until it has
# attached; sets extra_pid (empty for other configs) and extra_err (non-empty on failure)
start_extra() {
  local cfg=$1 log=$2 i marker
  extra_pid= extra_err=
  case $cfg in
    bpftrace)
      timeout -s INT $((secs + 90 + idle_wait_s)) bpftrace -e "$bt_prog" >"$log.bt.out" 2>"$log.bt.err" &
      marker='^Attaching' ;;
    floor)
      timeout -s INT $((secs + 90 + idle_wait_s)) "$floor_loader" "$floor_obj" "$floor_cgroup" >"$log.bt.out" 2>"$log.bt.err" &
      marker='^attached' ;;
    old)
      timeout -s INT $((secs + 90 + idle_wait_s)) "$floor_loader" "$old_obj" "$floor_cgroup" 0 \
        conn_tp_btf ack_tp_btf rtt_sockops retrans_tp_btf recv_tp_btf send_tp_btf >"$log.bt.out" 2>"$log.bt.err" &
      marker='^attached' ;;
    *) return 0 ;;
  esac
  extra_pid=$!; bg_pids+=("$extra_pid")
  wait_marker "$log.bt.out" "$marker" "$extra_pid" 300 && return 0
  extra_err="$cfg did not attach: $(tail -n1 "$log.bt.err" 2>/dev/null)"
  stop_extra
}
stop_extra() {
  local i
  [ -n "$extra_pid" ] || return 0
  kill -INT "$extra_pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$extra_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$extra_pid" 2>/dev/null || true; wait "$extra_pid" 2>/dev/null || true
  extra_pid=
}

# ---------------------------------------------------------------- one run
# run_one PHASE REP CONFIG : PHASE tput (no rate limit) or rate (-b $rate); sets run_* globals
run_one() {
  local phase=$1 rep=$2 cfg=$3 log=$work/run-$1-$2-$3 out want=STOPPED bt_child= b0=0 b1=0 s0 s0t s1 s1t t0 t1 c0 c1 ev0= ev1= lo0= lo1= r=
  run_status=ok run_bps=0 run_bytes=0 run_retr=0 run_cpu_ms=0 run_cpu_pct=0 run_rss=0 run_ev=- run_lost=- run_evps=- run_bt=- run_bt_ms=- run_bg=- run_wait=- run_snd_cpu=0 run_rcv_cpu=0 run_busy_ms=0 run_ms_per_gb=-
  local busy=0
  [ "$cfg" = probe ] && want=RUNNING
  [ "$phase" = rate ] && r=$rate
  set_probe "$want"; out=$probe_out
  if [ "$(probe_field "$out" STATE)" != "$want" ]; then
    probe_state=unknown
    run_status="probe_not_$want"
    echo "$out" >"$log.probe-list"
    return
  fi
  if [ "$cfg" = probe ]; then ev0=$(probe_field "$out" EVENTS); lo0=$(probe_field "$out" LOST); fi
  start_extra "$cfg" "$log"
  if [ -n "$extra_err" ]; then run_status=${extra_err// /_}; return; fi
  [ "$cfg" = bpftrace ] && bt_child=$(pgrep -P "$extra_pid" -x bpftrace | head -n1 || true)
  sleep "$settle_s"
  wait_idle; run_bg=$idle_bg run_wait=$idle_waited
  (( idle_bg <= idle_pct )) || busy=1

  kill -0 "$agent_pid" 2>/dev/null || die "the agent (pid $agent_pid) is gone"
  [ -z "$bt_child" ] || b0=$(cpu_ticks "$bt_child" 2>/dev/null || echo 0)
  read -r s0 s0t <<<"$(sys_ticks)"
  t0=$(now_ms); c0=$(cpu_ticks "$agent_pid")
  iperf_run "$secs" "$log" "$r"
  t1=$(now_ms); c1=$(cpu_ticks "$agent_pid")
  read -r s1 s1t <<<"$(sys_ticks)"
  if [ -n "$bt_child" ]; then
    b1=$(cpu_ticks "$bt_child" 2>/dev/null || echo "$b0")
    run_bt_ms=$(( (b1 - b0) * 1000 / clk_tck ))
  fi
  run_busy_ms=$(( s1 - s0 ))
  run_rss=$(( $(rss_kb "$agent_pid") / 1024 ))
  run_cpu_ms=$(( (c1 - c0) * 1000 / clk_tck ))
  run_cpu_pct=$(awk -v c="$run_cpu_ms" -v w=$((t1 - t0)) 'BEGIN { printf "%.1f", (w > 0) ? 100 * c / w : 0 }')

  if [ "$cfg" = bpftrace ]; then
    stop_extra
    run_bt=$(sed -n 's/^@n: *\([0-9][0-9]*\).*/\1/p' "$log.bt.out" | tail -n1)
    run_bt=${run_bt:-0}
    run_evps=$(awk -v n="$run_bt" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  fi
  stop_extra

  if [ "$cfg" = probe ]; then
    out=$(agent_cmd 'microbpf:probe-list')
    echo "$out" >"$log.probe-list"
    [ "$(probe_field "$out" STATE)" = RUNNING ] || run_status="probe_not_RUNNING_after_the_run"
    ev1=$(probe_field "$out" EVENTS); lo1=$(probe_field "$out" LOST)
    if is_uint "${ev0:-x}" && is_uint "${ev1:-x}"; then
      run_ev=$((ev1 - ev0))
      run_evps=$(awk -v n="$run_ev" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    fi
    if is_uint "${lo0:-x}" && is_uint "${lo1:-x}"; then run_lost=$((lo1 - lo0)); fi
  fi

  if ! jq -e '.end.sum_received.bits_per_second' "$log.json" >/dev/null 2>&1; then
    run_status="iperf3_failed"
    return
  fi
  run_bps=$(jq -r '.end.sum_received.bits_per_second' "$log.json")
  run_bytes=$(jq -r '.end.sum_received.bytes' "$log.json")
  run_retr=$(jq -r '.end.sum_sent.retransmits // 0' "$log.json")
  run_snd_cpu=$(jq -r '.end.cpu_utilization_percent.host_total // 0 | . * 10 | round / 10' "$log.json")
  run_rcv_cpu=$(jq -r '.end.cpu_utilization_percent.remote_total // 0 | . * 10 | round / 10' "$log.json")
  run_ms_per_gb=$(awk -v b="$run_busy_ms" -v n="$run_bytes" 'BEGIN { printf "%.1f", (n > 0) ? b / (n / 1e9) : 0 }')
  # the machine never became idle within --idle-wait-s: the run is shown but left out of the statistics
  (( busy == 0 )) || run_status=busy
  # other work started during an unlimited run: the CPU-bound sender got well under a CPU (idle: ~95-99 %)
  if [ "$phase" = tput ] && [ "$run_status" = ok ] && awk -v c="$run_snd_cpu" -v m="$min_snd_cpu" 'BEGIN { exit !(c < m) }'; then
    run_status=disturbed
  fi
}

gbps() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e9 }'; }

# ---------------------------------------------------------------- runs
info "warm-up: one unrecorded ${secs}s run with the probe stopped; iperf3 $pin_desc"
set_probe STOPPED
[ "$probe_state" = STOPPED ] || die "could not stop the probe; probe-list said:"$'\n'"$probe_out"
iperf_run "$secs" "$work/run-warmup"
jq -e '.end.sum_received.bits_per_second' "$work/run-warmup.json" >/dev/null 2>&1 \
  || die "the warm-up iperf3 run failed: $(cat "$work/run-warmup.client.err" "$work/run-warmup.server" 2>/dev/null | tail -n3)"
info "warm-up: $(gbps "$(jq -r '.end.sum_received.bits_per_second' "$work/run-warmup.json")") Gbit/s"

configs=(baseline probe floor bpftrace)
rate_configs=(baseline probe floor)
rows=()    # phase 1: "rep cfg Gbps retr agent_cpu_ms agent_cpu_pct rss_mb events lost ev/s bt_count bt_cpu_ms snd_cpu rcv_cpu bg_pct waited_s status"
rrows=()   # phase 2: "rep cfg Gbps busy_ms GB ms_per_GB agent_cpu_ms bg_pct waited_s status"
skipped=0 done_reps=0 rate_skipped=0 rate_done=0
hdr='%-3s %-8s %8s %6s %9s %7s %7s %9s %6s %9s %9s %6s %6s %6s %5s %5s  %s\n'
printf "$hdr" rep config Gbit/s retr agent_ms agent_% rss_MB events lost ev/s bt_count bt_ms snd_% rcv_% bg_% wait status
for ((rep = 1; rep <= reps; rep++)); do
  if (( $(now_ms) - script_start > budget_s * 1000 )); then skipped=$((reps - rep + 1)); break; fi
  for ((k = 0; k < ${#configs[@]}; k++)); do
    cfg=${configs[$(( (k + rep - 1) % ${#configs[@]} ))]}
    run_one tput "$rep" "$cfg"
    g=$(gbps "$run_bps")
    printf "$hdr" "$rep" "$cfg" "$g" "$run_retr" "$run_cpu_ms" "$run_cpu_pct" "$run_rss" "$run_ev" "$run_lost" "$run_evps" "$run_bt" "$run_bt_ms" "$run_snd_cpu" "$run_rcv_cpu" "$run_bg" "$run_wait" "$run_status"
    rows+=("$rep $cfg $g $run_retr $run_cpu_ms $run_cpu_pct $run_rss $run_ev $run_lost $run_evps $run_bt $run_bt_ms $run_snd_cpu $run_rcv_cpu $run_bg $run_wait $run_status")
  done
  done_reps=$rep
done
(( skipped == 0 )) || info "time budget of ${budget_s}s reached: $skipped phase-1 repetition(s) skipped"

if (( rate_reps > 0 )); then
  info "phase 2: CPU time per GB at iperf3 -b $rate"
  rhdr='%-3s %-8s %8s %8s %7s %9s %9s %5s %5s  %s\n'
  printf "$rhdr" rep config Gbit/s busy_ms GB ms/GB agent_ms bg_% wait status
  for ((rep = 1; rep <= rate_reps; rep++)); do
    if (( $(now_ms) - script_start > budget_s * 1000 )); then rate_skipped=$((rate_reps - rep + 1)); break; fi
    for ((k = 0; k < ${#rate_configs[@]}; k++)); do
      cfg=${rate_configs[$(( (k + rep - 1) % ${#rate_configs[@]} ))]}
      run_one rate "$rep" "$cfg"
      g=$(gbps "$run_bps"); gb=$(awk -v n="$run_bytes" 'BEGIN { printf "%.2f", n / 1e9 }')
      printf "$rhdr" "$rep" "$cfg" "$g" "$run_busy_ms" "$gb" "$run_ms_per_gb" "$run_cpu_ms" "$run_bg" "$run_wait" "$run_status"
      rrows+=("$rep $cfg $g $run_busy_ms $gb $run_ms_per_gb $run_cpu_ms $run_bg $run_wait $run_status")
    done
    rate_done=$rep
  done
  (( rate_skipped == 0 )) || info "time budget of ${budget_s}s reached: $rate_skipped phase-2 repetition(s) skipped"
fi

# ---------------------------------------------------------------- kernel-side cost (bpf_stats)
# One extra run per attached configuration with kernel.bpf_stats_enabled=1: the kernel then times
# every BPF program invocation (run_cnt, run_time_ns; this adds two clock reads per invocation, so
# these runs are not part of the throughput comparison). The BPF time as a share of the machine's
# busy CPU time is an estimate of the hooks' cost that does not depend on run-to-run throughput noise.
# prog_ids, prog_snap, stats_rows and stats_measure: bench/lib/agent-bench.sh
stats_sum=()    # "cfg gbps bpf_ms busy_ms share_pct"
stats_pass() {  # stats_pass CONFIG
  local cfg=$1 log=$work/run-bpfstats-$1 before after new=() busy_ms
  set_probe STOPPED
  [ "$probe_state" = STOPPED ] || { info "bpf_stats pass ($cfg): could not stop the probe"; return; }
  before=$(prog_ids)
  if [ "$cfg" = probe ]; then
    set_probe RUNNING
    [ "$probe_state" = RUNNING ] || { info "bpf_stats pass: could not start the probe"; return; }
  else
    start_extra "$cfg" "$log"
    [ -z "$extra_err" ] || { info "bpf_stats pass: $extra_err"; return; }
  fi
  after=$(prog_ids)
  mapfile -t new < <(comm -13 <(echo "$before") <(echo "$after"))
  if [ ${#new[@]} -eq 0 ] || [ -z "${new[0]}" ]; then
    info "bpf_stats pass ($cfg): no new BPF programs found"
  else
    stats_measure "$cfg" "$log" iperf_run "${new[@]}"
    busy_ms=$(( stats_s1 - stats_s0 ))
    stats_sum+=("$cfg $stats_gbps $(awk -v n="$stats_bpf_ns" -v b="$busy_ms" 'BEGIN { printf "%.1f %d %.1f", n / 1e6, b, (b > 0) ? 100 * n / 1e6 / b : 0 }') $idle_bg")
  fi
  stop_extra
}
if command -v bpftool >/dev/null && [ -w /proc/sys/kernel/bpf_stats_enabled ]; then
  bpf_stats_orig=$(sysctl -n kernel.bpf_stats_enabled)
  info "bpf_stats pass: one extra ${secs}s run each for probe, floor and bpftrace with kernel.bpf_stats_enabled=1"
  stats_pass probe
  stats_pass floor
  stats_pass bpftrace
  [ -z "$old_obj" ] || stats_pass old
  sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_orig"
else
  info "bpf_stats pass skipped (needs bpftool and a writable kernel.bpf_stats_enabled)"
fi
set_probe RUNNING || true   # leave the probe as the agent started it (the agent is stopped next anyway)

# ---------------------------------------------------------------- statistics
# stats and median_ci: bench/lib/agent-bench.sh
# rcol ROWS_NAME CFG FIELD STATUS_FIELD : the FIELD-th value of the ok rows of CFG
rcol() {
  local -n arr=$1
  local r
  for r in "${arr[@]:-}"; do
    [ -n "$r" ] || continue
    awk -v c="$2" -v n="$3" -v s="$4" '$2 == c && $s == "ok" { print $n }' <<<"$r"
  done
}
declare -A med mn mx cnt cpu_pct rss_max evps_med
for cfg in "${configs[@]}"; do
  mapfile -t v < <(rcol rows "$cfg" 3 17)
  read -r med[$cfg] mn[$cfg] mx[$cfg] cnt[$cfg] <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(rcol rows "$cfg" 6 17); read -r cpu_pct[$cfg] _ _ _ <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(rcol rows "$cfg" 7 17); read -r _ _ rss_max[$cfg] _ <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(rcol rows "$cfg" 10 17 | grep -v '^-$' || true); read -r evps_med[$cfg] _ _ _ <<<"$(stats "${v[@]:-}")"
done
cost() {  # cost of CFG vs baseline, median-based, in % (positive = slower)
  awk -v b="${med[baseline]}" -v c="${med[$1]}" 'BEGIN { if (b > 0 && c > 0) printf "%.1f", 100 * (b - c) / b; else print "n/a" }'
}
# paired_summary REF CFG -> "median min max n slower ci_lo ci_hi ci_cov" of the per-repetition cost of CFG
# relative to REF in the same repetition (phase 1; paired_pct, pct_summary: bench/lib/agent-bench.sh)
paired_summary() {
  local v
  mapfile -t v < <(paired_pct rows "$done_reps" "$1" "$2" 3 17 1)
  pct_summary "${v[@]:-}"
}
spread=$(awk -v lo="${mn[baseline]}" -v hi="${mx[baseline]}" -v m="${med[baseline]}" 'BEGIN { if (m > 0) printf "%.1f", 100 * (hi - lo) / m; else print "n/a" }')
probe_cost=$(cost probe) floor_cost=$(cost floor) bt_cost=$(cost bpftrace)
read -r pc_med pc_min pc_max pc_n pc_pos pc_lo pc_hi pc_cov <<<"$(paired_summary baseline probe)"
read -r fc_med fc_min fc_max fc_n fc_pos fc_lo fc_hi fc_cov <<<"$(paired_summary baseline floor)"
read -r bc_med bc_min bc_max bc_n bc_pos bc_lo bc_hi bc_cov <<<"$(paired_summary baseline bpftrace)"
read -r pf_med pf_min pf_max pf_n pf_pos pf_lo pf_hi pf_cov <<<"$(paired_summary floor probe)"
bg_max=$(printf '%s\n' "${rows[@]:-}" "${rrows[@]:-}" | awk 'NF && $NF == "ok" && $(NF-2) ~ /^[0-9]+$/ && $(NF-2) > m { m = $(NF-2) } END { print m + 0 }')
busy_runs=$(printf '%s\n' "${rows[@]:-}" "${rrows[@]:-}" | awk 'NF && $NF == "busy"' | wc -l)
disturbed_runs=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $NF == "disturbed"' | wc -l)
bad=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $17 != "ok"' | wc -l)
rbad=$(printf '%s\n' "${rrows[@]:-}" | awk 'NF && $10 != "ok"' | wc -l)

# phase 2: CPU ms per GB, per config median; paired per repetition vs baseline
declare -A gbmed gbmn gbmx gbcnt rgbps
for cfg in "${rate_configs[@]}"; do
  mapfile -t v < <(rcol rrows "$cfg" 6 10)
  read -r gbmed[$cfg] gbmn[$cfg] gbmx[$cfg] gbcnt[$cfg] <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(rcol rrows "$cfg" 3 10); read -r rgbps[$cfg] _ _ _ <<<"$(stats "${v[@]:-}")"
done
# rate_paired CFG -> "median min max n more ci_lo ci_hi ci_cov" of 100*(cfg - baseline)/baseline ms/GB
rate_paired() {
  local v
  mapfile -t v < <(paired_pct rrows "$rate_done" baseline "$1" 6 10 -1)
  pct_summary "${v[@]:-}"
}
if (( rate_reps > 0 )); then
  read -r rp_med rp_min rp_max rp_n rp_pos rp_lo rp_hi rp_cov <<<"$(rate_paired probe)"
  read -r rf_med rf_min rf_max rf_n rf_pos rf_lo rf_hi rf_cov <<<"$(rate_paired floor)"
fi

# Verdict: MET only if the median paired throughput cost is <= 3 % AND the upper end of its ~90 %
# distribution-free confidence interval is <= 3 % too (the evidence excludes a cost above 3 %).
if [ "$pc_med" = n/a ] || (( cnt[probe] == 0 || cnt[baseline] == 0 )); then
  verdict="NOT MEASURED: no successful paired probe and baseline runs"
elif awk -v c="$pc_med" -v h="$pc_hi" 'BEGIN { exit !(c <= 3 && h != "n/a" && h <= 3) }'; then
  verdict="MET: median paired cost ${pc_med} % of throughput, ${pc_cov} % confidence interval of the median ${pc_lo} … ${pc_hi} %, entirely <= 3 %"
elif awk -v c="$pc_med" 'BEGIN { exit !(c <= 3) }'; then
  verdict="NOT DEMONSTRATED: median paired cost ${pc_med} % (<= 3 %), but its ${pc_cov} % confidence interval ${pc_lo} … ${pc_hi} % reaches above 3 %: the runs cannot exclude a cost above the target"
else
  verdict="NOT MET: median paired cost ${pc_med} % of throughput (target <= 3 %; ${pc_cov} % confidence interval ${pc_lo} … ${pc_hi} %)"
fi
(( busy_runs == 0 )) || verdict="$verdict; $busy_runs run(s) left out because the machine stayed busy with other work for ${idle_wait_s} s before them"
(( disturbed_runs == 0 )) || verdict="$verdict; $disturbed_runs phase-1 run(s) left out because other work started during them (sender CPU < ${min_snd_cpu} %)"

echo
for cfg in "${configs[@]}"; do
  printf '%-8s median %s Gbit/s (min %s, max %s, %s ok runs)' "$cfg" "${med[$cfg]}" "${mn[$cfg]}" "${mx[$cfg]}" "${cnt[$cfg]}"
  [ "$cfg" = baseline ] || printf ', cost vs baseline %s %%' "$(cost "$cfg")"
  printf ', agent CPU median %s %% of a CPU, RSS max %s MB' "${cpu_pct[$cfg]}" "${rss_max[$cfg]}"
  echo
done
echo "paired per-repetition cost vs baseline (median, min..max, slower in, ~90% CI of the median):"
echo "  probe    ${pc_med} % (${pc_min} .. ${pc_max}; ${pc_pos}/${pc_n}; ${pc_lo} .. ${pc_hi})"
echo "  floor    ${fc_med} % (${fc_min} .. ${fc_max}; ${fc_pos}/${fc_n}; ${fc_lo} .. ${fc_hi})"
echo "  bpftrace ${bc_med} % (${bc_min} .. ${bc_max}; ${bc_pos}/${bc_n}; ${bc_lo} .. ${bc_hi})"
echo "  probe vs floor ${pf_med} % (${pf_min} .. ${pf_max}; ${pf_pos}/${pf_n}; ${pf_lo} .. ${pf_hi})"
if (( rate_reps > 0 )); then
  for cfg in "${rate_configs[@]}"; do
    echo "CPU per GB at -b $rate: $cfg median ${gbmed[$cfg]} ms/GB (min ${gbmn[$cfg]}, max ${gbmx[$cfg]}, ${gbcnt[$cfg]} runs, ${rgbps[$cfg]} Gbit/s)"
  done
  echo "  paired extra CPU/GB vs baseline: probe ${rp_med} % (${rp_min} .. ${rp_max}; CI ${rp_lo} .. ${rp_hi}), floor ${rf_med} % (${rf_min} .. ${rf_max}; CI ${rf_lo} .. ${rf_hi})"
fi
for r in "${stats_sum[@]:-}"; do
  [ -n "$r" ] || continue
  read -r a b c d e _ <<<"$r"
  echo "bpf_stats run ($a): $b Gbit/s, BPF programs ran $c ms = $e % of the $d ms busy CPU time"
done
for r in "${stats_rows[@]:-}"; do [ -n "$r" ] && echo "  $r"; done
echo "baseline spread (max - min) / median: ${spread} %"
echo "hooks: $hooks"
echo "$verdict"

# ---------------------------------------------------------------- docs/PERFORMANCE.md
if [ "$write_doc" = 1 ]; then
  doc=$root/docs/PERFORMANCE.md section=$work/section.md
  cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  {
    echo '<!-- ack-overhead:start -->'
    echo '## Throughput cost of the `ack` probe (iperf3 over veth)'
    echo
    echo "Measured $(date -u +'%Y-%m-%d %H:%M UTC') by \`bench/run-ack-overhead-bench.sh --reps $reps --rate-reps $rate_reps --seconds $secs --rate $rate\`"
    echo "on Linux $(uname -r), $ncpu CPU(s) (${cpu_model:-unknown CPU}), $(iperf3 --version 2>/dev/null | head -n1 | awk '{print $1, $2}'), $(bpftrace --version 2>/dev/null | head -n1)."
    echo
    echo "- Load: \`iperf3 -c $ip_b -t $secs -J\` (one TCP stream) from namespace \`$ns_a\` to \`iperf3 -s -1\` in"
    echo "  \`$ns_b\` over a veth pair; iperf3 $pin_desc. Throughput = receiver \`end.sum_received.bits_per_second\`."
    echo "- The agent (the built distribution) runs in every configuration; only what is attached differs."
    echo "  **baseline**: probe stopped (\`microbpf:probe-stop ack\` through \`bin/client\`, outside the measured"
    echo "  window); **probe**: probe attached; **floor**: probe stopped + empty programs on exactly the probe's"
    echo "  hooks (\`bench/ack_floor.bpf.c\`: same tp_btf tracepoints, sockops on the cgroup root enabling RTT_CB)"
    echo "  = the cost of attachment alone; **bpftrace**: probe stopped + \`bpftrace -e '$bt_prog'\` (peer figure)."
    echo "- Interleaving: phase 1 runs all four per repetition, the order rotated by one each repetition; phase 2"
    echo "  likewise for baseline/probe/floor. Before every measured run: ${settle_s} s pause after the toggle, then a"
    echo "  wait (1 s samples, at most ${idle_wait_s} s) until at most ${idle_pct} % of all CPUs are busy; **bg %** is the busy"
    echo "  share of the last sample, **wait** the seconds waited. One unrecorded warm-up run first."
    echo "- Hooks the probe used (\`microbpf:probe-list\` at start):"
    echo
    echo '```'
    echo "$probe_list_running"
    [ -z "$rejected" ] || echo "$rejected"
    echo '```'
    echo
    echo "### Phase 1: throughput, no rate limit (CPU-bound: every ns in a hook costs throughput)"
    echo
    echo "agent ms / % = CPU time of the agent JVM in the iperf3 window; events = \`probe-list\` EVENTS delta;"
    echo "bt count = bpftrace's tcp_probe count; snd % / rcv % = iperf3's own CPU use; retr = TCP retransmits."
    echo
    echo '| rep | config | Gbit/s | retr | agent ms | agent % | RSS MB | events | lost | bt count | snd % | rcv % | bg % | wait s | status |'
    echo '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
    for r in "${rows[@]:-}"; do
      [ -n "$r" ] || continue
      read -r a b c d e f g h i j k l m n o p st <<<"$r"
      echo "| $a | $b | $c | $d | $e | $f | $g | $h | $i | $k | $m | $n | $o | $p | $st |"
    done
    echo
    echo '| config | median Gbit/s | min | max | ok runs | cost vs baseline (medians) | paired cost: median (min … max) | slower than its baseline | ~90 % CI of the paired median |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
    echo "| baseline | **${med[baseline]}** | ${mn[baseline]} | ${mx[baseline]} | ${cnt[baseline]} | — | — | — | — |"
    echo "| probe | **${med[probe]}** | ${mn[probe]} | ${mx[probe]} | ${cnt[probe]} | ${probe_cost} % | **${pc_med} %** (${pc_min} … ${pc_max}) | ${pc_pos} of ${pc_n} | ${pc_lo} … ${pc_hi} % (${pc_cov} %) |"
    echo "| floor | **${med[floor]}** | ${mn[floor]} | ${mx[floor]} | ${cnt[floor]} | ${floor_cost} % | **${fc_med} %** (${fc_min} … ${fc_max}) | ${fc_pos} of ${fc_n} | ${fc_lo} … ${fc_hi} % (${fc_cov} %) |"
    echo "| bpftrace | **${med[bpftrace]}** | ${mn[bpftrace]} | ${mx[bpftrace]} | ${cnt[bpftrace]} | ${bt_cost} % | **${bc_med} %** (${bc_min} … ${bc_max}) | ${bc_pos} of ${bc_n} | ${bc_lo} … ${bc_hi} % (${bc_cov} %) |"
    echo
    echo "- Paired cost = (baseline − config) / baseline within one repetition (runs seconds apart), positive ="
    echo "  slower; its median over repetitions is the headline figure. Probe relative to floor (the probe's work"
    echo "  beyond attaching): median ${pf_med} % (${pf_min} … ${pf_max}), CI ${pf_lo} … ${pf_hi} %."
    echo "- CI: distribution-free confidence interval of the median from order statistics (sign test), the"
    echo "  narrowest with coverage ≥ 90 %. The baseline's own spread (max − min) / median is ${spread} %."
    if (( rate_reps > 0 )); then
      echo
      echo "### Phase 2: CPU time per GB at a fixed rate (\`iperf3 -b $rate\`, below the CPU limit)"
      echo
      echo "busy ms = CPUs × wall time − (idle + iowait) of /proc/stat over the iperf3 window (everything on the"
      echo "machine; idle is measured exactly under NO_HZ, the tick-sampled user/system fields alias with iperf3's pacing);"
      echo "ms/GB = busy ms per 10⁹ bytes received."
      echo
      echo '| rep | config | Gbit/s | busy ms | GB | ms/GB | agent ms | bg % | wait s | status |'
      echo '|---:|---|---:|---:|---:|---:|---:|---:|---:|---|'
      for r in "${rrows[@]:-}"; do
        [ -n "$r" ] || continue
        read -r a b c d e f g h i st <<<"$r"
        echo "| $a | $b | $c | $d | $e | $f | $g | $h | $i | $st |"
      done
      echo
      echo '| config | median Gbit/s | median ms/GB | min | max | runs | paired extra CPU/GB vs baseline: median (min … max) | ~90 % CI |'
      echo '|---|---:|---:|---:|---:|---:|---:|---:|'
      echo "| baseline | ${rgbps[baseline]} | **${gbmed[baseline]}** | ${gbmn[baseline]} | ${gbmx[baseline]} | ${gbcnt[baseline]} | — | — |"
      echo "| probe | ${rgbps[probe]} | **${gbmed[probe]}** | ${gbmn[probe]} | ${gbmx[probe]} | ${gbcnt[probe]} | **${rp_med} %** (${rp_min} … ${rp_max}) | ${rp_lo} … ${rp_hi} % |"
      echo "| floor | ${rgbps[floor]} | **${gbmed[floor]}** | ${gbmn[floor]} | ${gbmx[floor]} | ${gbcnt[floor]} | **${rf_med} %** (${rf_min} … ${rf_max}) | ${rf_lo} … ${rf_hi} % |"
    fi
    if [ ${#stats_sum[@]} -gt 0 ]; then
      echo
      echo "### Phase 3: in-kernel cost (\`kernel.bpf_stats_enabled=1\`, one extra ${secs} s unlimited run per configuration)"
      echo
      echo "The kernel times every BPF program invocation (two extra clock reads per call, so these runs are"
      echo "not in the comparison above); the trampoline/dispatch around a program is not included, which is"
      echo "what the floor's throughput figures show. BPF share = programs' run time / busy CPU time of the machine:"
      echo
      echo '| config | program id | type | name | calls | calls/s | ns/call | BPF ms |'
      echo '|---|---:|---|---|---:|---:|---:|---:|'
      for r in "${stats_rows[@]}"; do
        read -r a b c d e f g h <<<"$r"
        echo "| $a | $b | $c | $d | $e | $f | $g | $h |"
      done
      echo
      for r in "${stats_sum[@]}"; do
        read -r a b c d e f <<<"$r"
        echo "- $a: $b Gbit/s; BPF programs ran **$c ms = $e %** of the $d ms of busy CPU time (bg ${f} % before the run)."
      done
    fi
    echo
    echo "- **Target ≤ 3 % (verdict rule: the median paired cost and the upper end of its ~90 % CI both ≤ 3 %): ${verdict}.**"
    (( bad == 0 )) || echo "- $bad phase-1 run(s) failed or found the machine busy (status column) and are left out of the statistics."
    (( rbad == 0 )) || echo "- $rbad phase-2 run(s) failed or found the machine busy (status column) and are left out of the statistics."
    (( skipped == 0 )) || echo "- time budget (${budget_s} s) reached: $skipped phase-1 repetition(s) skipped."
    (( rate_skipped == 0 )) || echo "- time budget (${budget_s} s) reached: $rate_skipped phase-2 repetition(s) skipped."
    echo "- Re-run: \`sudo flock /tmp/microbpf-bench.lock bench/run-ack-overhead-bench.sh\` (needs the built distribution; about 12 minutes with the defaults)."
    echo '<!-- ack-overhead:end -->'
  } >"$section"
  if [ ! -f "$doc" ]; then
    { echo '# Performance'; echo; cat "$section"; } >"$doc"
  elif grep -q '<!-- ack-overhead:start -->' "$doc" && grep -q '<!-- ack-overhead:end -->' "$doc"; then
    awk -v sec="$section" '
      /<!-- ack-overhead:start -->/ { while ((getline l < sec) > 0) print l; skip = 1; next }
      /<!-- ack-overhead:end -->/   { skip = 0; next }
      !skip' "$doc" >"$doc.tmp" && cat "$doc.tmp" >"$doc" && rm -f "$doc.tmp"
  else
    { echo; cat "$section"; } >>"$doc"
  fi
  info "wrote the ack-overhead section of $doc"
fi
info "logs: $work (run-*.json, run-*.probe-list, run-*.bt.out)"
